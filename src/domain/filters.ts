import { and, eq, gt, inArray, lt, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
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
 * The SQL conditions of a filter (API.md §2, §8). Each one is served by an index: a tag pair by the primary key of
 * `execution_tags` (an `exists` per pair, for reads another filter drives, such as a parent's children; reads a tag
 * drives join `tagJoins` instead), workflowId and workflowIdPrefix by the text_pattern_ops index (the prefix as a
 * range, so a generic plan uses it too), lineage by the parent and root indexes, idPrefix as a range of the key.
 */
export function filterConditions(filter: ExecutionFilter | null | undefined): SQL[] {
  const c: SQL[] = [];
  if (!filter) return c;
  if (filter.status?.length) c.push(inArray(executions.status, filter.status));
  if (filter.workflowId) c.push(eq(executions.workflowId, filter.workflowId));
  if (filter.createdAfter) c.push(gt(executions.createdAt, new Date(filter.createdAfter)));
  if (filter.createdBefore) c.push(lt(executions.createdAt, new Date(filter.createdBefore)));
  for (const [key, value] of Object.entries(tagMap(filter.tags))) {
    const t = executionTags;
    c.push(sql`exists (select from ${t} where ${tagOf(t, key, value)} and ${rowOf(t)})`);
  }
  if (filter.parentExecutionId) c.push(eq(executions.parentExecutionId, filter.parentExecutionId));
  if (filter.rootExecutionId) c.push(eq(executions.rootExecutionId, filter.rootExecutionId));
  if (filter.workflowIdPrefix) {
    const p = filter.workflowIdPrefix;
    c.push(
      sql`${executions.workflowId} ~>=~ ${p} and ${executions.workflowId} ~<~ ${p + AFTER_PREFIX} and starts_with(${executions.workflowId}, ${p})`,
    );
  }
  if (filter.idPrefix) {
    const [low, high] = idRange(filter.idPrefix);
    c.push(sql`${executions.id} between ${low}::uuid and ${high}::uuid`);
  }
  return c;
}

const tagAlias = (i: number) => alias(executionTags, `t${i}`);
type TagTable = typeof executionTags | ReturnType<typeof tagAlias>;

/** The rows of one pair (a range of execution_tags_pair_idx)… */
const tagOf = (t: TagTable, key: string, value: string) => sql`${t.key} = ${key} and ${t.value} = ${value}`;

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
}

/**
 * The tag pairs of a filter as joins of `execution_tags` in the caller's tenant: a list orders by the first one's
 * `(created_at, execution_id)`, so its first page is a range of `execution_tags_pair_idx` that stops after a page,
 * and counts read its status without the executions. Several pairs are several joins, each joined by every column of
 * the index (one probe); the planner starts from whichever it estimates the most selective.
 */
export function tagJoins(principal: Principal, filter: ExecutionFilter | null | undefined): TagJoin[] {
  return Object.entries(tagMap(filter?.tags)).map(([key, value], i) => {
    const table = tagAlias(i);
    const where = and(
      eq(table.organizationId, principal.organizationId),
      eq(table.environment, principal.environment),
      tagOf(table, key, value),
    ) as SQL;
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
    return { table, where, on };
  });
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
