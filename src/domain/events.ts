import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executionEvents, executionLogs } from '../db/schema.js';
import { prepared } from '../db/statement-cache.js';
import { readLogs } from './logs.js';
import { EVENT_TYPES, type EventType, type ExecutionEvent } from './types.js';

/** The page size of every event read, so no replay or catch-up holds an unbounded result in memory. */
export const EVENT_PAGE = 500;

/**
 * Events of one execution with sequence in (after, upTo], oldest first, at most `limit`; only those of `types` when
 * given. LOG events live in their own table (`domain/logs.ts`): each table is read by its primary key, so a run's log
 * lines never slow a read of its other events. A read of both is one statement (`readMixed`), so it sees one
 * snapshot: a batch is in it whole or not at all, whatever the types. No tenant check: callers have already resolved
 * the execution for their principal.
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
  return readMixed(db, executionId, after, limit, upTo ?? MAX_SEQUENCE, others ?? OTHER_TYPES);
}

const MAX_SEQUENCE = 2_147_483_647;
const OTHER_TYPES = EVENT_TYPES.filter((t) => t !== 'LOG');

/**
 * Log lines and other events (of `types`) in one statement: `union all` of the two tables, each an ordered range of
 * its primary key bounded by the limit, merged by sequence. Two statements would each see what had committed when it
 * started, and a batch committing between them could show its other events without its lines; with a filter that
 * drops some of the batch's events, no hole in the sequence would tell, and a reader would pass the lines by.
 */
async function readMixed(
  db: Executor,
  executionId: string,
  after: number,
  limit: number,
  upTo: number,
  types: readonly EventType[],
): Promise<ExecutionEvent[]> {
  const statement = prepared(db, 'read_mixed', (d) => {
    const range = (t: typeof executionEvents | typeof executionLogs) =>
      and(
        eq(t.executionId, sql.placeholder('id')),
        gt(t.sequence, sql.placeholder('after')),
        lte(t.sequence, sql.placeholder('upTo')),
      );
    const events = d
      .select({
        executionId: executionEvents.executionId,
        sequence: executionEvents.sequence,
        type: executionEvents.type,
        payload: executionEvents.payload,
        stream: sql<string | null>`null::text`,
        level: sql<string | null>`null::text`,
        text: sql<string | null>`null::text`,
        occurredAt: executionEvents.occurredAt,
        recordedAt: executionEvents.recordedAt,
      })
      .from(executionEvents)
      .where(
        and(
          range(executionEvents),
          sql`${executionEvents.type} = any(${sql.placeholder('types')}::execution_event_type[])`,
        ),
      )
      .orderBy(asc(executionEvents.sequence))
      .limit(sql.placeholder('limit'));
    const logs = d
      .select({
        executionId: executionLogs.executionId,
        sequence: executionLogs.sequence,
        type: sql<EventType>`'LOG'::execution_event_type`,
        payload: sql<unknown>`null::jsonb`,
        stream: executionLogs.stream,
        level: executionLogs.level,
        text: executionLogs.text,
        occurredAt: executionLogs.occurredAt,
        recordedAt: executionLogs.recordedAt,
      })
      .from(executionLogs)
      .where(range(executionLogs))
      .orderBy(asc(executionLogs.sequence))
      .limit(sql.placeholder('limit'));
    return events
      .unionAll(logs)
      .orderBy(asc(executionEvents.sequence))
      .limit(sql.placeholder('limit'))
      .prepare('read_mixed');
  });
  const rows = await statement.execute({ id: executionId, after, upTo, limit, types: pgArray(types) });
  return rows.map(({ stream, level, text, payload, ...e }) => ({
    ...e,
    payload:
      e.type === 'LOG'
        ? { stream: stream as string, level, text: text as string }
        : (payload as Record<string, unknown>),
  }));
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
