import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executionEvents } from '../db/schema.js';
import { prepared } from '../db/statement-cache.js';
import { readLogs } from './logs.js';
import type { EventType, ExecutionEvent } from './types.js';

/** The page size of every event read, so no replay or catch-up holds an unbounded result in memory. */
export const EVENT_PAGE = 500;

/**
 * Events of one execution with sequence in (after, upTo], oldest first, at most `limit`; only those of `types` when
 * given. LOG events live in their own table (`domain/logs.ts`): both are read by their primary key and merged by
 * sequence, so a run's log lines never slow a read of its other events. No tenant check: callers have already
 * resolved the execution for their principal.
 */
export async function readEvents(
  db: Executor,
  executionId: string,
  after: number,
  limit = EVENT_PAGE,
  upTo?: number,
  types?: readonly EventType[] | null,
): Promise<ExecutionEvent[]> {
  const others = types ? types.filter((t) => t !== 'LOG') : null;
  if (types && !types.includes('LOG')) return readOtherEvents(db, executionId, after, limit, upTo, others);
  if (others?.length === 0) return readLogs(db, executionId, after, limit, upTo);
  // Two tables, two statements, and on PostgreSQL each sees what had committed when it started. Read at once, a
  // batch committing between them could show its other events but not its log lines (or the reverse), and the page
  // would end short of what the execution row already says (a hub or a replay then skipped the rest). So the log
  // lines are read first: the later read of the other events sees every batch the first saw, and a batch that
  // committed in between shows as a hole in the sequence (gap-free per execution), which a read again fills.
  for (let attempt = 1; ; attempt++) {
    const logs = await readLogs(db, executionId, after, limit, upTo);
    const events = await readOtherEvents(db, executionId, after, limit, upTo, others);
    const page =
      logs.length === 0 || events.length === 0
        ? [...events, ...logs]
        : [...events, ...logs].sort((a, b) => a.sequence - b.sequence).slice(0, limit);
    if (types || attempt === 3 || page.every((e, i) => e.sequence === after + 1 + i)) return page;
  }
}

async function readOtherEvents(
  db: Executor,
  executionId: string,
  after: number,
  limit: number,
  upTo: number | undefined,
  types: readonly EventType[] | null,
): Promise<ExecutionEvent[]> {
  if (upTo === undefined && !types) {
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
        types ? sql`${executionEvents.type} = any(${pgArray([...types])}::execution_event_type[])` : undefined,
      ),
    )
    .orderBy(asc(executionEvents.sequence))
    .limit(limit);
  return rows as ExecutionEvent[];
}
