import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { executionEvents } from '../db/schema.js';
import { prepared } from '../db/statement-cache.js';
import type { ExecutionEvent } from './types.js';

/** The page size of every event read, so no replay or catch-up holds an unbounded result in memory. */
export const EVENT_PAGE = 500;

/**
 * Events of one execution with sequence in (after, upTo], oldest first, at most `limit`. No tenant check: callers
 * have already resolved the execution for their principal.
 */
export async function readEvents(
  db: Executor,
  executionId: string,
  after: number,
  limit = EVENT_PAGE,
  upTo?: number,
): Promise<ExecutionEvent[]> {
  if (upTo === undefined) {
    const statement = prepared(db, 'read_events', (d) =>
      d
        .select()
        .from(executionEvents)
        .where(
          and(
            eq(executionEvents.executionId, sql.placeholder('id')),
            gt(executionEvents.sequence, sql.placeholder('after')),
          ),
        )
        .orderBy(asc(executionEvents.sequence))
        .limit(sql.placeholder('limit'))
        .prepare('read_events'),
    );
    return (await statement.execute({ id: executionId, after, limit })) as ExecutionEvent[];
  }
  const rows = await db
    .select()
    .from(executionEvents)
    .where(
      and(
        eq(executionEvents.executionId, executionId),
        gt(executionEvents.sequence, after),
        upTo === undefined ? undefined : lte(executionEvents.sequence, upTo),
      ),
    )
    .orderBy(asc(executionEvents.sequence))
    .limit(limit);
  return rows as ExecutionEvent[];
}
