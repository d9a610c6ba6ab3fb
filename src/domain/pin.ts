import { and, eq, sql } from 'drizzle-orm';
import { executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { type DomainContext, publish } from './context.js';
import { notFound } from './errors.js';
import { isUuid } from './executions.js';
import { tenantOf } from './tenant.js';
import type { Execution } from './types.js';

/**
 * `setExecutionPinned` (API.md §10): a pinned execution keeps its whole tree from retention. The tree's root is
 * locked first (`FOR KEY SHARE`), the lock retention's claim takes `FOR UPDATE`: a pin either commits before
 * retention claims the tree (which then sees it and keeps the tree) or waits until the tree is gone (then
 * EXECUTION_NOT_FOUND), never in between. Another tenant's execution is EXECUTION_NOT_FOUND, as one that never was.
 */
export async function setExecutionPinned(
  ctx: DomainContext,
  principal: Principal,
  id: string,
  pinned: boolean,
): Promise<Execution> {
  requireScope(principal, 'executions:write');
  if (!isUuid(id)) throw notFound(id);
  const row = await ctx.db.transaction(async (tx) => {
    const result = await tx.execute(sql`select r.id from executions e join executions r on r.id = e.root_execution_id
      where e.id = ${id}::uuid and e.organization_id = ${principal.organizationId}
        and e.environment = ${principal.environment}::environment
      for key share of r`);
    const roots = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
    if (roots.length === 0) return undefined;
    const [updated] = await tx
      .update(executions)
      .set({ pinned, updatedAt: ctx.now() })
      .where(and(eq(executions.id, id), tenantOf(principal)))
      .returning();
    return updated;
  });
  if (!row) throw notFound(id);
  publish(ctx, [{ executionId: row.id, sequence: 0 }]); // no new event: sequence 0 makes every hub read the row
  return row as Execution;
}
