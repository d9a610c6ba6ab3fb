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
  const [events, logs] = await Promise.all([
    others?.length === 0 ? [] : readOtherEvents(db, executionId, after, limit, upTo, others),
    types && !types.includes('LOG') ? [] : readLogs(db, executionId, after, limit, upTo),
  ]);
  if (logs.length === 0) return events;
  if (events.length === 0) return logs;
  return [...events, ...logs].sort((a, b) => a.sequence - b.sequence).slice(0, limit);
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
