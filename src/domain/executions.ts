import { and, desc, eq, getTableColumns, inArray, type SQLWrapper, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import { prepared, preparedRows } from '../db/statement-cache.js';
import { type Principal, requireScope } from './access.js';
import { requestHash } from './canonical.js';
import { type DomainContext, publish } from './context.js';
import { VigilError } from './errors.js';
import {
  type Bound,
  type FilterValues,
  filterValues,
  onTagIndex,
  pairJoins,
  sharedSpan,
  type TagJoin,
  type Tenant,
  valueConditions,
} from './filters.js';
import { createExecutionInput, type ExecutionFilter, executionFilterInput, parse } from './inputs.js';
import { insertWithLineage, resolveLineage } from './lineage.js';
import { type RowColumns, type ShapedRead, shaped } from './shapes.js';
import { tagMap } from './tags.js';
import { ownedBy, tenantIs, tenantOf } from './tenant.js';
import { EXECUTION_STATUSES, type Execution, type ExecutionStatus } from './types.js';

/** What `z.uuid()` (inputs.ts `uuidSchema`) accepts, tested directly: safeParse builds a result per call on hot reads. */
const UUID = z.regexes.uuid();
export const isUuid = (id: string) => UUID.test(id);

/**
 * Creates an execution in PENDING. With an idempotencyKey, a retry of the same request returns the execution the
 * first one created, and a different request under the same key is IDEMPOTENCY_CONFLICT (API.md §2).
 */
export async function createExecution(ctx: DomainContext, principal: Principal, raw: unknown): Promise<Execution> {
  return (await createOrReplayExecution(ctx, principal, raw)).execution;
}

/** createExecution, also saying whether this call created the execution or replayed an idempotent request. */
export async function createOrReplayExecution(
  ctx: DomainContext,
  principal: Principal,
  raw: unknown,
): Promise<{ execution: Execution; created: boolean }> {
  requireScope(principal, 'executions:write');
  const input = parse(createExecutionInput, raw, [], ctx.limits);
  const { idempotencyKey, ...request } = input;
  const tags = tagMap(input.tags);
  // Tags compare as a set (API.md §8): hashed as an object, whose keys canonicalJson sorts.
  const hashed = { ...request, tags: input.tags?.length ? tags : undefined };
  const now = ctx.now();
  const id = uuidv7();
  const values = {
    id,
    organizationId: principal.organizationId,
    environment: principal.environment,
    workflowId: input.workflowId,
    workflowVersion: input.workflowVersion ?? null,
    trigger: input.trigger ?? { type: 'manual' },
    initiatedBy: input.initiatedBy ?? null,
    inputs: input.inputs ?? null,
    metadata: input.metadata ?? null,
    resolvedVariables: input.resolvedVariables ?? null,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: idempotencyKey ? requestHash(hashed) : null,
    timeoutSeconds: input.timeoutSeconds ?? null,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds ?? null,
    deadlineAt: input.timeoutSeconds ? new Date(now.getTime() + input.timeoutSeconds * 1000) : null,
    heartbeatDeadlineAt: input.heartbeatTimeoutSeconds
      ? new Date(now.getTime() + input.heartbeatTimeoutSeconds * 1000)
      : null,
    tags,
    createdAt: now,
    updatedAt: now,
  };
  const insert = async (db: Executor) => {
    const lineage = await resolveLineage(db, principal, id, input);
    const [row] = await db
      .insert(executions)
      .values({ ...values, ...lineage })
      .onConflictDoNothing({
        target: [executions.organizationId, executions.environment, executions.idempotencyKey],
        where: sql`${executions.idempotencyKey} is not null`,
      })
      .returning();
    return row;
  };
  // A root is one statement; so is a child or a retry whose lineage the rules accept (insertWithLineage checks them
  // in the statement). When it inserts nothing, the transaction below says why, or replays the idempotent request.
  let inserted: Execution | undefined;
  if (!input.parentExecutionId && !input.retryOf) inserted = (await insert(ctx.db)) as Execution | undefined;
  else {
    inserted = (await insertWithLineage(ctx.db, principal, values, input)) ?? undefined;
    if (!inserted) inserted = (await ctx.db.transaction((tx) => insert(tx))) as Execution | undefined;
  }
  if (inserted) {
    publish(ctx, [{ executionId: inserted.id, sequence: 0 }]);
    return { execution: inserted as Execution, created: true };
  }
  const [existing] = await ctx.db
    .select()
    .from(executions)
    .where(and(tenantOf(principal), eq(executions.idempotencyKey, idempotencyKey ?? '')));
  if (!existing) throw new VigilError('INTERNAL', 'Idempotent create lost its row');
  if (existing.requestHash !== values.requestHash) {
    throw new VigilError(
      'IDEMPOTENCY_CONFLICT',
      `idempotencyKey ${idempotencyKey} was already used for a different request (execution ${existing.id})`,
    );
  }
  return { execution: existing as Execution, created: false };
}

/** The execution, or null when it is absent or not visible to the principal (never leaks existence). */
export async function findExecution(db: Executor, principal: Principal, id: string): Promise<Execution | null> {
  requireScope(principal, 'executions:read');
  if (!isUuid(id)) return null;
  // By the primary key alone; the tenant is checked on the row (`ownedBy`).
  const statement = preparedRows<Execution>(db, 'find_execution', executions, (d) =>
    d
      .select()
      .from(executions)
      .where(eq(executions.id, sql.placeholder('id'))),
  );
  const [row] = await statement.execute({ id });
  return row && ownedBy(principal, row) ? row : null;
}

/** Like findExecution, but EXECUTION_NOT_FOUND when absent. */
export async function getExecution(db: Executor, principal: Principal, id: string): Promise<Execution> {
  const row = await findExecution(db, principal, id);
  if (!row) throw new VigilError('EXECUTION_NOT_FOUND', `Execution ${id} not found`);
  return row;
}

/** Reads executions by id without a tenant check: for the change feed, which checks the tenant per listener. */
export async function loadExecutions(db: Executor, ids: string[]): Promise<Execution[]> {
  if (ids.length === 0) return [];
  if (ids.length === 1) return loadExecution(db, ids[0] as string).then((e) => (e ? [e] : []));
  const rows = await db.select().from(executions).where(inArray(executions.id, ids));
  return rows as Execution[];
}

/** One execution by id without a tenant check (the change feed's read); a prepared statement. */
export async function loadExecution(db: Executor, id: string): Promise<Execution | null> {
  const statement = prepared(db, 'load_execution', (d) =>
    d
      .select()
      .from(executions)
      .where(eq(executions.id, sql.placeholder('id')))
      .prepare('load_execution'),
  );
  const [row] = await statement.execute({ id });
  return (row as Execution | undefined) ?? null;
}

export interface Page {
  nodes: Execution[];
  cursors: string[];
  hasNextPage: boolean;
}

export function encodeCursor(e: Pick<Execution, 'createdAt' | 'id'>): string {
  return Buffer.from(`${e.createdAt.toISOString()}|${e.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !isUuid(id)) {
    throw new VigilError('VALIDATION_FAILED', 'Invalid cursor', {
      issues: [{ loc: ['after'], msg: 'not a cursor from this API', type: 'value_error' }],
    });
  }
  return { createdAt, id };
}

export function parseFilter(raw: unknown): ExecutionFilter | null {
  return raw == null ? null : parse(executionFilterInput, raw, ['filter']);
}

/** `first` of a page: 20 when omitted, 0–100. */
export function pageSize(raw: number | null | undefined): number {
  const first = raw ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > 100) {
    throw new VigilError('VALIDATION_FAILED', 'first must be between 0 and 100', {
      issues: [{ loc: ['first'], msg: 'must be between 0 and 100', type: 'value_error' }],
    });
  }
  return first;
}

/** Newest first (createdAt desc, id desc), Relay-style cursors (API.md §2). */
export async function listExecutions(
  db: Executor,
  principal: Principal,
  args: { filter?: unknown; first?: number | null; after?: string | null },
): Promise<Page> {
  const first = pageSize(args.first);
  const rows = await listQuery(db, principal, args);
  const nodes = rows.slice(0, first);
  return { nodes, cursors: nodes.map(encodeCursor), hasNextPage: rows.length > first };
}

/** A list's arguments as a statement binds them (values, or placeholders: shapes.ts). */
interface ListArgs {
  tenant: Tenant;
  filter: FilterValues;
  after?: { createdAt: Bound; id: Bound };
}

/**
 * The read of one page (one row more than asked, to tell whether there is a next page); the index test explains it.
 * Its statement is built once per shape (shapes.ts): the page size is in its text, every other value a parameter.
 */
export function listQuery(
  db: Executor,
  principal: Principal,
  args: { filter?: unknown; first?: number | null; after?: string | null },
): ShapedRead<Execution> {
  requireScope(principal, 'executions:read');
  const filter = parseFilter(args.filter);
  const limit = pageSize(args.first) + 1;
  const list: ListArgs = {
    tenant: { org: principal.organizationId, env: principal.environment },
    filter: filterValues(filter),
    after: args.after ? decodeCursor(args.after) : undefined,
  };
  return shaped(db, `list ${limit}`, list, ROW_COLUMNS, (d, bound) => pageQuery(d, bound, literalLimit(limit)));
}

function pageQuery(db: Executor, { tenant, filter, after }: ListArgs, limit: number) {
  if (filter.tags) return taggedPage(db, tenant, filter, after, limit);
  const conditions = [tenantIs(tenant.org, tenant.env), ...valueConditions(filter)];
  if (after) conditions.push(before(executions.createdAt, executions.id, after));
  return db
    .select(COLUMNS)
    .from(executions)
    .where(and(...conditions))
    .orderBy(desc(executions.createdAt), desc(executions.id))
    .limit(limit);
}

/**
 * A page of a tag filter, in two steps. First the page's ids, from `execution_tags` alone: the first pair's range of
 * execution_tags_pair_idx read in page order (its `created_at` and `execution_id` are the execution's), the status,
 * workflow, created-time, id-prefix and cursor conditions on the same index entries (`onTagIndex`: status and
 * workflow are copied there), every other pair joined by every column of the index (a merge of the ranges, both in
 * page order, or one probe per entry), so it stops after a page whatever the pairs match and reads no execution it
 * does not return. Then those executions, by primary key. Only lineage, which the index lacks, joins the executions
 * in the first step.
 */
function taggedPage(db: Executor, tenant: Tenant, filter: FilterValues, after: ListArgs['after'], limit: number) {
  const tags = pairJoins(tenant, filter.tags ?? []);
  const [first, ...others] = tags as [TagJoin, ...TagJoin[]];
  const t = first.table;
  const { conditions: onIndex, rest } = onTagIndex(t, filter);
  const conditions = [first.where, ...others.map((o) => o.where), ...onIndex, ...sharedSpan(tags)];
  if (after) conditions.push(before(t.createdAt, t.executionId, after));
  let ids = db.select({ id: t.executionId, createdAt: t.createdAt }).from(t).$dynamic();
  for (const o of others) ids = ids.innerJoin(o.table, o.on(first));
  const onExecutions = valueConditions(rest);
  if (onExecutions.length > 0) {
    ids = ids.innerJoin(executions, first.on());
    conditions.push(tenantIs(tenant.org, tenant.env), ...onExecutions);
  }
  const page = ids
    .where(and(...conditions))
    .orderBy(desc(t.createdAt), desc(t.executionId))
    .limit(limit)
    .as('page');
  return db
    .select(COLUMNS)
    .from(page)
    .innerJoin(executions, eq(executions.id, page.id))
    .where(tenantIs(tenant.org, tenant.env))
    .orderBy(desc(page.createdAt), desc(page.id))
    .limit(limit);
}

/** Rows after a cursor in page order (newest first): a range condition of the index that orders the page. */
const before = (createdAt: SQLWrapper, id: SQLWrapper, c: { createdAt: Bound; id: Bound }) =>
  sql`(${createdAt}, ${id}) < (${c.createdAt}::timestamptz, ${c.id}::uuid)`;

/**
 * `limit n` written as a literal, not sent as a parameter. Every query is a prepared statement, and PostgreSQL plans a
 * prepared statement generically (once, without the values) only when that plan costs no more than its custom plans;
 * a generic plan guesses that a `limit $n` keeps a tenth of the rows, so the page's plan never did and every request
 * was planned again (1–1.5 ms of planning for a 0.4 ms read of a tag's first page at 1M executions). `n` is an integer
 * from pageSize (1–101), so a query shape has at most 101 statement texts.
 */
function literalLimit(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new VigilError('INTERNAL', `Not a page size: ${n}`);
  // drizzle's limit() embeds an SQL chunk as it is (its type says number | Placeholder).
  return sql.raw(String(n)) as unknown as number;
}

const COLUMNS = getTableColumns(executions);
/** A page's row: every column of the execution, in the order of COLUMNS. */
const ROW_COLUMNS: RowColumns = Object.entries(COLUMNS);
/** A count's row: its status and count, as the driver gives them. */
const COUNT_COLUMNS: RowColumns = [
  ['status', null],
  ['count', null],
];

export interface ExecutionCounts {
  total: number;
  byStatus: { status: ExecutionStatus; count: number }[];
}

/** How many of the caller's executions match the filter, by status (API.md §8 `executionCounts`); every status listed. */
export async function countExecutions(
  db: Executor,
  principal: Principal,
  rawFilter: unknown,
): Promise<ExecutionCounts> {
  const rows = await countQuery(db, principal, rawFilter);
  const counts = new Map(rows.map((r) => [r.status, Number(r.count)]));
  const byStatus = EXECUTION_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 }));
  return { total: byStatus.reduce((n, s) => n + s.count, 0), byStatus };
}

/**
 * The counts' read. With tags, and no lineage filter besides, it reads `execution_tags` only (`onTagIndex`: status and
 * workflow are copied there): an index-only range of execution_tags_pair_idx per pair. A lineage filter joins the
 * executions by primary key. The tenant and pairs are blind parameters (filters.ts), so PostgreSQL plans the prepared
 * statement once rather than for each request's values.
 */
export function countQuery(
  db: Executor,
  principal: Principal,
  rawFilter: unknown,
): ShapedRead<{ status: ExecutionStatus; count: number }> {
  requireScope(principal, 'executions:read');
  const args: CountArgs = {
    tenant: { org: principal.organizationId, env: principal.environment },
    filter: filterValues(parseFilter(rawFilter)),
  };
  return shaped(db, 'count', args, COUNT_COLUMNS, countsQuery);
}

interface CountArgs {
  tenant: Tenant;
  filter: FilterValues;
}

function countsQuery(db: Executor, { tenant, filter }: CountArgs) {
  const count = sql<number>`count(*)::int`;
  const [first, ...others] = pairJoins(tenant, filter.tags ?? [], { blind: true });
  if (!first) {
    return db
      .select({ status: executions.status, count })
      .from(executions)
      .where(and(tenantIs(tenant.org, tenant.env), ...valueConditions(filter)))
      .groupBy(executions.status);
  }
  const t = first.table;
  const { conditions: onIndex, rest } = onTagIndex(t, filter, { blind: true });
  const onExecutions = valueConditions(rest);
  const conditions = [first.where, ...others.map((o) => o.where), ...onIndex, ...sharedSpan([first, ...others])];
  let query = db.select({ status: t.status, count }).from(t).$dynamic();
  for (const o of others) query = query.innerJoin(o.table, o.on(first));
  if (onExecutions.length > 0) {
    query = query.innerJoin(executions, eq(executions.id, t.executionId));
    conditions.push(tenantIs(tenant.org, tenant.env), ...onExecutions);
  }
  return query.where(and(...conditions)).groupBy(t.status);
}
