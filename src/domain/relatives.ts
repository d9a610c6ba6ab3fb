import { and, asc, desc, getTableColumns, type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { decodeCursor, encodeCursor, type Page, pageSize, parseFilter } from './executions.js';
import { filterConditions } from './filters.js';
import { ownedBy, tenantOf } from './tenant.js';
import type { Execution } from './types.js';

/**
 * The relatives of many executions at once, each in one query whatever the number of executions, so a list that
 * asks for every row's parent, retries or children costs three queries, not three per row (API.md §8).
 */

/** Executions by id in the caller's tenant; null for those absent or not visible. */
export async function executionsByIds(
  db: Executor,
  principal: Principal,
  ids: readonly string[],
): Promise<(Execution | null)[]> {
  requireScope(principal, 'executions:read');
  // By the primary key alone, the tenant checked on the rows (`ownedBy`).
  const rows = (await db
    .select()
    .from(executions)
    .where(sql`${executions.id} = any(${pgArray(ids)}::uuid[])`)) as Execution[];
  const byId = new Map(rows.filter((r) => ownedBy(principal, r)).map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** For each id, the executions created with retryOf = it, oldest first. */
export async function retriesOf(db: Executor, principal: Principal, ids: readonly string[]): Promise<Execution[][]> {
  requireScope(principal, 'executions:read');
  const rows = (await db
    .select()
    .from(executions)
    .where(and(sql`${executions.retryOf} = any(${pgArray(ids)}::uuid[])`, tenantOf(principal)))
    .orderBy(asc(executions.createdAt), asc(executions.id))) as Execution[];
  return ids.map((id) => rows.filter((r) => r.retryOf === id));
}

/**
 * For each parent id, one page of its children (newest first, the cursors of `executions`), all pages in one query:
 * a lateral join runs the page's indexed read once per parent.
 */
export async function childrenPages(
  db: Executor,
  principal: Principal,
  parentIds: readonly string[],
  args: { filter?: unknown; first?: number | null; after?: string | null },
): Promise<Page[]> {
  requireScope(principal, 'executions:read');
  const filter = parseFilter(args.filter);
  const first = pageSize(args.first);
  const conditions: SQL[] = [sql`${executions.parentExecutionId} = p.id`, ...filterConditions(filter)];
  if (args.after) {
    const c = decodeCursor(args.after);
    conditions.push(sql`(${executions.createdAt}, ${executions.id}) < (${c.createdAt}::timestamptz, ${c.id}::uuid)`);
  }
  const page = db
    .select()
    .from(executions)
    .where(and(tenantOf(principal), ...conditions))
    .orderBy(desc(executions.createdAt), desc(executions.id))
    .limit(first + 1)
    .as('c');
  const fields = Object.fromEntries(Object.keys(getTableColumns(executions)).map((k) => [k, page[k as 'id']]));
  const rows = (await db
    .select(fields)
    .from(sql`unnest(${pgArray([...parentIds])}::uuid[]) as p(id)`)
    .crossJoinLateral(page)) as unknown as Execution[];
  return parentIds.map((id) => {
    const mine = rows.filter((r) => r.parentExecutionId === id);
    const nodes = mine.slice(0, first);
    return { nodes, cursors: nodes.map(encodeCursor), hasNextPage: mine.length > first };
  });
}
