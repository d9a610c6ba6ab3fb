import { and, eq, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { executions, executionTags } from '../db/schema.js';
import type { Principal } from './access.js';
import type { ExecutionFilter } from './inputs.js';
import { hasTags, tagMap } from './tags.js';
import type { Execution } from './types.js';

/** The highest code point: `prefix || U+10FFFF` sorts after every id that starts with `prefix` (byte order). */
const AFTER_PREFIX = String.fromCodePoint(0x10ffff);

/** The smallest and largest id that start with `prefix` (a validated start of the 8-4-4-4-12 layout). */
function idRange(prefix: string): [string, string] {
  const pad = (fill: string) =>
    prefix + '00000000-0000-0000-0000-000000000000'.slice(prefix.length).replace(/0/g, fill);
  return [pad('0'), pad('f')];
}

/**
 * A parameter the planner does not see, even when it plans for the given values: `(select $n)`, an InitPlan it runs
 * once before the scan (still an index condition). PostgreSQL plans a prepared statement generically (once) only when
 * that plan costs no more than the average of the custom plans made for each request's values; for a tag's counts,
 * the custom estimate of a pair rarer than average is smaller than the generic one, so every request was planned
 * again (0.3 ms, at 1M executions). With the tenant, pairs and the conditions on the index blind, both estimates are
 * the same and the generic plan is kept; its shape (an index-only range of the first pair, grouped by status) is the
 * one every pair gets anyway.
 */
const blind = (x: unknown, type = 'text') => sql`(select ${x}::${sql.raw(type)})`;

/** A value a condition binds: the value itself, or its placeholder (a statement built once per shape: `shapes.ts`). */
export type Bound = string | SQLWrapper;

/**
 * A filter's values, each computed once from the filter: times in ISO form, a prefix as its range, the pairs without
 * a repeated key. The conditions below use them as values only, never to decide what they write, so that one
 * statement built with placeholders in their place (`shapes.ts`) serves every filter that has the same fields.
 */
export interface FilterValues<V = Bound> {
  status?: V[];
  workflowId?: V;
  createdAfter?: V;
  createdBefore?: V;
  tags?: { key: V; value: V }[];
  parentExecutionId?: V;
  rootExecutionId?: V;
  workflowIdPrefix?: { low: V; high: V; exact: V };
  idPrefix?: { low: V; high: V };
}

export function filterValues(filter: ExecutionFilter | null | undefined): FilterValues<string> {
  const v: FilterValues<string> = {};
  if (!filter) return v;
  if (filter.status?.length) v.status = [...filter.status];
  if (filter.workflowId) v.workflowId = filter.workflowId;
  if (filter.createdAfter) v.createdAfter = new Date(filter.createdAfter).toISOString();
  if (filter.createdBefore) v.createdBefore = new Date(filter.createdBefore).toISOString();
  const pairs = Object.entries(tagMap(filter.tags));
  if (pairs.length > 0) v.tags = pairs.map(([key, value]) => ({ key, value }));
  if (filter.parentExecutionId) v.parentExecutionId = filter.parentExecutionId;
  if (filter.rootExecutionId) v.rootExecutionId = filter.rootExecutionId;
  if (filter.workflowIdPrefix) {
    const p = filter.workflowIdPrefix;
    v.workflowIdPrefix = { low: p, high: p + AFTER_PREFIX, exact: p };
  }
  if (filter.idPrefix) {
    const [low, high] = idRange(filter.idPrefix);
    v.idPrefix = { low, high };
  }
  return v;
}

/**
 * The SQL conditions of a filter (API.md §2, §8). Each one is served by an index: a tag pair by the primary key of
 * `execution_tags` (an `exists` per pair, for reads another filter drives, such as a parent's children; reads a tag
 * drives join `tagJoins` instead), workflowId and workflowIdPrefix by the text_pattern_ops index (the prefix as a
 * range, so a generic plan uses it too), lineage by the parent and root indexes, idPrefix as a range of the key.
 */
export function filterConditions(filter: ExecutionFilter | null | undefined): SQL[] {
  return valueConditions(filterValues(filter));
}

/** `filterConditions` of a filter's values (or of their placeholders). */
export function valueConditions(v: FilterValues): SQL[] {
  const c: SQL[] = [];
  if (v.status) c.push(sql`${executions.status} in ${v.status}`);
  if (v.workflowId) c.push(sql`${executions.workflowId} = ${v.workflowId}`);
  if (v.createdAfter) c.push(sql`${executions.createdAt} > ${v.createdAfter}`);
  if (v.createdBefore) c.push(sql`${executions.createdAt} < ${v.createdBefore}`);
  for (const { key, value } of v.tags ?? []) {
    const t = executionTags;
    c.push(sql`exists (select from ${t} where ${tagOf(t, key, value)} and ${rowOf(t)})`);
  }
  if (v.parentExecutionId) c.push(sql`${executions.parentExecutionId} = ${v.parentExecutionId}`);
  if (v.rootExecutionId) c.push(sql`${executions.rootExecutionId} = ${v.rootExecutionId}`);
  if (v.workflowIdPrefix) c.push(startsWith(executions.workflowId, v.workflowIdPrefix));
  if (v.idPrefix) c.push(idStartsWith(executions.id, v.idPrefix));
  return c;
}

/** A workflow prefix as a range of a `text_pattern_ops` index (so a generic plan uses it too), then the exact test. */
function startsWith(column: SQLWrapper, p: { low: Bound; high: Bound; exact: Bound }, blinded = false): SQL {
  const [low, high, exact] = blinded ? [blind(p.low), blind(p.high), blind(p.exact)] : [p.low, p.high, p.exact];
  return sql`${column} ~>=~ ${low} and ${column} ~<~ ${high} and starts_with(${column}, ${exact})`;
}

/** An id prefix as a range of ids. */
function idStartsWith(column: SQLWrapper, { low, high }: { low: Bound; high: Bound }, blinded = false): SQL {
  if (blinded) return sql`${column} between ${blind(low, 'uuid')} and ${blind(high, 'uuid')}`;
  return sql`${column} between ${low}::uuid and ${high}::uuid`;
}

const tagAlias = (i: number) => alias(executionTags, `t${i}`);
type TagTable = typeof executionTags | ReturnType<typeof tagAlias>;

/** The rows of one pair (a range of execution_tags_pair_idx)… */
const tagOf = (t: TagTable, key: Bound, value: Bound) => sql`${t.key} = ${key} and ${t.value} = ${value}`;

/** …and the one of an execution, by every column of the index: one exact probe, with no other index to keep. */
const rowOf = (
  t: TagTable,
  e: { organizationId: SQLWrapper; environment: SQLWrapper; createdAt: SQLWrapper; id: SQLWrapper } = {
    organizationId: executions.organizationId,
    environment: executions.environment,
    createdAt: executions.createdAt,
    id: executions.id,
  },
) =>
  sql`${t.organizationId} = ${e.organizationId} and ${t.environment} = ${e.environment} and ${t.createdAt} = ${e.createdAt} and ${t.executionId} = ${e.id}`;

/** One pair of a tag filter: its own alias of `execution_tags` (t0, t1, …) and the conditions that pick its rows. */
export interface TagJoin {
  table: ReturnType<typeof tagAlias>;
  where: SQL;
  /** Joins the pair's row to its execution (`executions` by default, or the first pair's row, by a probe of the index). */
  on(other?: TagJoin): SQL;
  /** The `created_at` of the pair's newest or oldest entry in the tenant: one probe at an end of its range. */
  edge(which: 'newest' | 'oldest'): SQL;
}

/**
 * The tag pairs of a filter as joins of `execution_tags` in the caller's tenant: a list orders by the first one's
 * `(created_at, execution_id)`, so its first page is a range of `execution_tags_pair_idx` that stops after a page,
 * and counts read its status without the executions. Several pairs are several joins, each joined by every column of
 * the index (one probe); the planner starts from whichever it estimates the most selective.
 */
export function tagJoins(
  principal: Principal,
  filter: ExecutionFilter | null | undefined,
  options: { blind?: boolean } = {},
): TagJoin[] {
  const tenant = { org: principal.organizationId, env: principal.environment };
  return pairJoins(tenant, filterValues(filter).tags ?? [], options);
}

/** The tenant a statement reads, as values or placeholders. */
export interface Tenant<V = Bound> {
  org: V;
  env: V;
}

/** `tagJoins` of a tenant and pairs given as values (or placeholders). */
export function pairJoins(
  tenant: Tenant,
  pairs: readonly { key: Bound; value: Bound }[],
  options: { blind?: boolean } = {},
): TagJoin[] {
  const v = options.blind ? blind : (x: Bound) => x;
  const org = v(tenant.org);
  const env = options.blind ? blind(tenant.env, 'environment') : tenant.env;
  return pairs.map(({ key, value }, i) => {
    const table = tagAlias(i);
    const where = and(
      sql`${table.organizationId} = ${org}`,
      sql`${table.environment} = ${env}`,
      sql`${table.key} = ${v(key)}`,
      sql`${table.value} = ${v(value)}`,
    ) as SQL;
    const edge = (which: 'newest' | 'oldest') => {
      const order = sql.raw(which === 'newest' ? 'desc' : 'asc');
      return sql`(select e.created_at from ${executionTags} as e where e.organization_id = ${org}
        and e.environment = ${env} and e.key = ${v(key)} and e.value = ${v(value)}
        order by e.created_at ${order}, e.execution_id ${order} limit 1)`;
    };
    const on = (other?: TagJoin) => {
      // To the execution by its primary key only: an equality of created_at too would make the planner's estimate of
      // the join one row, and with it a sort of "one row" look cheaper than reading the tag's range in order.
      if (!other) return eq(table.executionId, executions.id);
      const o = other.table;
      return rowOf(table, {
        organizationId: o.organizationId,
        environment: o.environment,
        createdAt: o.createdAt,
        id: o.executionId,
      });
    };
    return { table, where, on, edge };
  });
}

/**
 * With several pairs, each pair's range is read only within the span of time the other pairs have entries in: from
 * the newest of their oldest entries to the oldest of their newest (a probe at each end of each other pair's range,
 * run once before the read; an empty pair makes it empty). No execution outside it has every pair, so the read stops
 * as soon as one pair is exhausted, at either end: pairs that never meet because one was used before the other began
 * read nothing, where a merge of their ranges read the newer one to its end.
 */
export function sharedSpan(tags: TagJoin[]): SQL[] {
  if (tags.length < 2) return [];
  return tags.map((t) => {
    const others = tags.filter((o) => o !== t);
    const oldest = others.map((o) => sql`coalesce(${o.edge('oldest')}, 'infinity'::timestamptz)`);
    const newest = others.map((o) => sql`coalesce(${o.edge('newest')}, '-infinity'::timestamptz)`);
    return sql`${t.table.createdAt} between greatest(${sql.join(oldest, sql`, `)}) and least(${sql.join(newest, sql`, `)})`;
  });
}

/**
 * The conditions of a filter that the first pair's entries of execution_tags_pair_idx answer themselves (the status
 * and workflow are copied there; created time and id are the execution's own), on `t`: a page or a count tests them
 * on the index entries, not on one execution row each. `rest` is what only the executions have (lineage).
 */
export function onTagIndex(
  t: TagJoin['table'],
  values: FilterValues,
  options: { blind?: boolean } = {},
): { conditions: SQL[]; rest: FilterValues } {
  const { tags: _, status, createdAfter, createdBefore, workflowId, workflowIdPrefix, idPrefix, ...rest } = values;
  const b = options.blind;
  const c: SQL[] = [];
  if (status) {
    const blinded = () =>
      sql.join(
        status.map((x) => blind(x, 'execution_status')),
        sql`, `,
      );
    c.push(b ? sql`${t.status} in (${blinded()})` : sql`${t.status} in ${status}`);
  }
  if (createdAfter) c.push(sql`${t.createdAt} > ${b ? blind(createdAfter, 'timestamptz') : createdAfter}`);
  if (createdBefore) c.push(sql`${t.createdAt} < ${b ? blind(createdBefore, 'timestamptz') : createdBefore}`);
  if (workflowId) c.push(sql`${t.workflowId} = ${b ? blind(workflowId) : workflowId}`);
  if (workflowIdPrefix) c.push(startsWith(t.workflowId, workflowIdPrefix, options.blind));
  if (idPrefix) c.push(idStartsWith(t.executionId, idPrefix, options.blind));
  return { conditions: c, rest };
}

/** The filter without its tags, for a read that joins them (`tagJoins`). */
export function withoutTags(filter: ExecutionFilter | null | undefined): ExecutionFilter | null {
  return filter ? { ...filter, tags: undefined } : null;
}

/** The same filter on an execution in memory (the change feed's match, API.md §2 `executionUpdated`). */
export function matchesFilter(e: Execution, filter: ExecutionFilter | null | undefined): boolean {
  if (!filter) return true;
  if (filter.status?.length && !filter.status.includes(e.status)) return false;
  if (filter.workflowId && filter.workflowId !== e.workflowId) return false;
  if (filter.createdAfter && !(e.createdAt > new Date(filter.createdAfter))) return false;
  if (filter.createdBefore && !(e.createdAt < new Date(filter.createdBefore))) return false;
  if (!hasTags(e, filter.tags)) return false;
  if (filter.parentExecutionId && filter.parentExecutionId !== e.parentExecutionId) return false;
  if (filter.rootExecutionId && filter.rootExecutionId !== e.rootExecutionId) return false;
  if (filter.workflowIdPrefix && !e.workflowId.startsWith(filter.workflowIdPrefix)) return false;
  if (filter.idPrefix && !e.id.startsWith(filter.idPrefix)) return false;
  return true;
}
