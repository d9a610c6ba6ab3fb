import { type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { MessageState, NewEvent } from './batch.js';
import type { LogPayload } from './logs.js';
import type { Execution, ExecutionStatus } from './types.js';

/** The statements a recorded batch writes its rows with (`record.ts` runs them): one array parameter per column. */

export type StoredEvent = NewEvent & { executionId: string; recordedAt: Date };

/**
 * The batch's executions, sent once per statement as one array; each row names its execution by its 1-based index in
 * it (a few bytes instead of a 36-character uuid on every row).
 */
export interface RowOf {
  ids: string;
  index(executionId: string): number;
}

export function rowsOfBatch(ids: readonly string[]): RowOf {
  const at = new Map(ids.map((id, i) => [id, i + 1]));
  return { ids: pgArray(ids), index: (id) => at.get(id) as number };
}

/**
 * Events other than LOG: per row only what varies is sent, as for log lines (the batch's time once; an occurrence at
 * that time as NULL; the execution as its index in the batch).
 */
export function insertEvents(events: readonly StoredEvent[], now: Date, batchIds: RowOf): SQL {
  const n = events.length;
  const ids = new Array<number>(n);
  const sequences = new Array<number>(n);
  const types = new Array<string>(n);
  const payloads = new Array<string>(n);
  const occurred = new Array<string | null>(n);
  const at = now.getTime();
  for (let i = 0; i < n; i++) {
    const e = events[i] as StoredEvent;
    ids[i] = batchIds.index(e.executionId);
    sequences[i] = e.sequence;
    types[i] = e.type;
    payloads[i] = JSON.stringify(e.payload);
    occurred[i] = e.occurredAt.getTime() === at ? null : e.occurredAt.toISOString();
  }
  return sql`insert into execution_events (execution_id, sequence, type, payload, occurred_at, recorded_at)
      select b.ids[l.id], l.sequence, l.type, l.payload, coalesce(l.occurred_at, b.now), b.now
      from (select ${batchIds.ids}::uuid[] as ids, ${now.toISOString()}::timestamptz as now) b,
        unnest(${pgArray(ids)}::int[], ${pgArray(sequences)}::int[], ${pgArray(types)}::execution_event_type[],
          ${pgArray(payloads)}::jsonb[], ${pgArray(occurred)}::timestamptz[]) as l(id, sequence, type, payload, occurred_at)`;
}

export type MessageWrite = { executionId: string; messageId: string } & MessageState;

export function insertMessages(m: readonly MessageWrite[], batchIds: RowOf): SQL {
  return sql`insert into execution_messages (execution_id, message_id, status, counted)
      select b.ids[m.id], m.message_id, m.status, m.counted from (select ${batchIds.ids}::uuid[] as ids) b,
        unnest(${pgArray(m.map((x) => batchIds.index(x.executionId)))}::int[], ${pgArray(m.map((x) => x.messageId))}::text[],
          ${pgArray(m.map((x) => x.status))}::message_status[], ${pgArray(m.map((x) => x.counted))}::boolean[])
          as m(id, message_id, status, counted)`;
}

export function updateMessages(m: readonly MessageWrite[]): SQL {
  return sql`update execution_messages as t set status = m.status, counted = m.counted
      from unnest(${pgArray(m.map((x) => x.executionId))}::uuid[], ${pgArray(m.map((x) => x.messageId))}::text[],
        ${pgArray(m.map((x) => x.status))}::message_status[], ${pgArray(m.map((x) => x.counted))}::boolean[])
        as m(execution_id, message_id, status, counted)
      where t.execution_id = m.execution_id and t.message_id = m.message_id`;
}

/**
 * LOG events go to their own table (`domain/logs.ts` says why), as plain columns: no JSON to build or parse. Per line
 * only what varies is sent: the batch's time is one parameter (every line of a batch is recorded at `now`, and most
 * occurred then too: NULL says so), and the default stream is NULL; the arrays are built in one pass.
 */
export function insertLogs(logs: readonly StoredEvent[], now: Date, batchIds: RowOf): SQL {
  const n = logs.length;
  const ids = new Array<number>(n);
  const sequences = new Array<number>(n);
  const streams = new Array<string | null>(n);
  const levels = new Array<string | null>(n);
  const texts = new Array<string>(n);
  const occurred = new Array<string | null>(n);
  const at = now.getTime();
  for (let i = 0; i < n; i++) {
    const e = logs[i] as StoredEvent;
    const p = e.payload as unknown as LogPayload;
    ids[i] = batchIds.index(e.executionId);
    sequences[i] = e.sequence;
    streams[i] = p.stream === 'stdout' ? null : p.stream;
    levels[i] = p.level;
    texts[i] = p.text;
    occurred[i] = e.occurredAt.getTime() === at ? null : e.occurredAt.toISOString();
  }
  return sql`insert into execution_logs (execution_id, sequence, stream, level, text, occurred_at, recorded_at)
      select b.ids[l.id], l.sequence, coalesce(l.stream, 'stdout'), l.level, l.text, coalesce(l.occurred_at, b.now), b.now
      from (select ${batchIds.ids}::uuid[] as ids, ${now.toISOString()}::timestamptz as now) b,
        unnest(${pgArray(ids)}::int[], ${pgArray(sequences)}::int[], ${pgArray(streams)}::text[],
          ${pgArray(levels)}::text[], ${pgArray(texts)}::text[], ${pgArray(occurred)}::timestamptz[])
        as l(id, sequence, stream, level, text, occurred_at)`;
}

/**
 * One guarded update of the batch's executions, answering `{ ok, xmin }`: `xmin` is the id of the writing transaction,
 * which every row it updates carries (`record-copies.ts`). Each row is guarded on the status it was read with, and,
 * when `xmin` is given, on being the version that transaction wrote. A mismatch divides by zero, which aborts the
 * transaction even when its COMMIT is already on the wire.
 */
export function updateExecutions(
  written: readonly Execution[],
  expected: ReadonlyMap<string, ExecutionStatus>,
  xmin?: string,
): SQL {
  const col = <T>(f: (e: Execution) => T) => pgArray(written.map((e) => f(e) as never));
  const json = (f: (e: Execution) => unknown) => col((e) => (f(e) == null ? null : JSON.stringify(f(e))));
  const time = (f: (e: Execution) => Date | null) => col((e) => f(e)?.toISOString() ?? null);
  return sql`with updated as (update executions as e set
        status = v.status, progress = v.progress, steps = v.steps, output = v.output, error = v.error,
        started_at = v.started_at, completed_at = v.completed_at, last_sequence = v.last_sequence,
        total_messages = v.total, completed_messages = v.completed, failed_messages = v.failed,
        in_progress_messages = v.in_progress, updated_at = v.updated_at, heartbeat_deadline_at = v.heartbeat,
        tags = v.tags, log_bytes = v.log_bytes, log_truncated = v.log_truncated
      from unnest(${col((e) => e.id)}::uuid[], ${col((e) => expected.get(e.id))}::execution_status[],
        ${col((e) => e.status)}::execution_status[], ${json((e) => e.progress)}::jsonb[], ${json((e) => e.steps)}::jsonb[],
        ${json((e) => e.output)}::jsonb[], ${json((e) => e.error)}::jsonb[], ${time((e) => e.startedAt)}::timestamptz[],
        ${time((e) => e.completedAt)}::timestamptz[], ${col((e) => e.lastSequence)}::int[], ${col((e) => e.totalMessages)}::int[],
        ${col((e) => e.completedMessages)}::int[], ${col((e) => e.failedMessages)}::int[], ${col((e) => e.inProgressMessages)}::int[],
        ${time((e) => e.updatedAt)}::timestamptz[], ${time((e) => e.heartbeatDeadlineAt)}::timestamptz[],
        ${json((e) => e.tags)}::jsonb[], ${col((e) => e.logBytes)}::bigint[], ${col((e) => e.logTruncated)}::boolean[])
        as v(id, expected, status, progress, steps, output, error, started_at, completed_at, last_sequence, total,
             completed, failed, in_progress, updated_at, heartbeat, tags, log_bytes, log_truncated)
      where e.id = v.id and e.status = v.expected and (${xmin ?? null}::xid is null or e.xmin = ${xmin ?? null}::xid)
      returning e.xmin)
      select 1 / (count(*) = ${written.length})::int as ok, max(xmin::text) as xmin from updated`;
}
