import { sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Db } from '../db/client.js';
import type { Pipeline } from '../db/pipeline.js';
import { executions } from '../db/schema.js';
import { type Bound, columnsOf, decoderOf, fixed, runBound } from '../db/statement-cache.js';
import { applyMessage, type MessageState, type NewEvent } from './batch.js';
import type { LogPayload } from './logs.js';
import type { Execution, ExecutionStatus, MessageStatus } from './types.js';

/**
 * The statements a recorded batch reads its rows with and writes them with (`record.ts` runs them): one array
 * parameter per column, so each has one fixed text, built once (`fixed`), whatever the batch holds.
 */

const v = (name: string) => sql.placeholder(name);
type Names = (name: string) => ReturnType<typeof v>;

export type StoredEvent = NewEvent & { executionId: string; recordedAt: Date };

/** A row of `select *` (named columns, driver values) as drizzle's `select()` of the table gives it. */
function rowReader<T>(table: Parameters<typeof columnsOf>[0]): (row: Record<string, unknown>) => T {
  const columns = columnsOf(table);
  const names = columns.map(([key, column]) => column?.name ?? key);
  const decode = decoderOf<T>(columns);
  return (row) => decode(names.map((name) => row[name]));
}

/** The batch's executions, locked in id order (so two batches never deadlock). */
const LOCK_EXECUTIONS = fixed(sql`select * from executions where id = any(${v('ids')}::uuid[]) order by id for update`);
export const lockExecutions = (batchIds: RowOf): Bound => LOCK_EXECUTIONS({ ids: batchIds.ids });
export const executionOf = rowReader<Execution>(executions);

/**
 * The lineage of the batch's messages (read after the lock, on its connection: exact under it), from their MESSAGE
 * events through `execution_events_message_idx`: per message, its reported statuses in sequence order.
 */
const READ_MESSAGES = fixed(sql`select execution_id, payload ->> 'messageId' as message_id,
      array_agg(payload ->> 'status' order by sequence) as statuses
    from execution_events
    where type = 'MESSAGE' and execution_id = any(${v('ids')}::uuid[])
      and payload ->> 'messageId' = any(${v('messages')}::text[])
    group by 1, 2`);
export const readMessages = (batchIds: RowOf, messageIds: readonly string[]): Bound =>
  READ_MESSAGES({ ids: batchIds.ids, messages: pgArray(messageIds) });

/** A message's state: its reports folded in order, as they were applied (`applyMessage`). */
export function messageOf(row: Record<string, unknown>): { executionId: string; messageId: string } & MessageState {
  const counters = { totalMessages: 0, completedMessages: 0, failedMessages: 0, inProgressMessages: 0 };
  let state: MessageState | undefined;
  for (const status of row.statuses as MessageStatus[]) state = applyMessage(state, status, counters) ?? state;
  if (!state) throw new Error(`message ${String(row.message_id)} has no report`);
  return { executionId: row.execution_id as string, messageId: row.message_id as string, ...state };
}

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
 * that time as NULL; the execution as its index in the batch). The payloads go as one JSON array, each row taking the
 * element at its position: an array literal of JSON texts made every payload's quotes be escaped, a second copy of
 * each (a tenth of what a batch of MESSAGE events allocated), and PostgreSQL unescaped them again.
 */
const eventsInsert = (p: Names) => sql`insert into execution_events (execution_id, sequence, type, payload,
      occurred_at, recorded_at)
    select b.ids[l.id], l.sequence, l.type, b.payloads -> (l.n::int - 1), coalesce(l.occurred_at, b.now), b.now
    from (select ${p('ids')}::uuid[] as ids, ${p('now')}::timestamptz as now, ${p('payloads')}::jsonb as payloads) b,
      unnest(${p('rows')}::int[], ${p('sequences')}::int[], ${p('types')}::execution_event_type[],
        ${p('occurred')}::timestamptz[]) with ordinality as l(id, sequence, type, occurred_at, n)`;
const INSERT_EVENTS = fixed(eventsInsert(v));

export function insertEvents(events: readonly StoredEvent[], now: Date, batchIds: RowOf): Bound {
  const n = events.length;
  const ids = new Array<number>(n);
  const sequences = new Array<number>(n);
  const types = new Array<string>(n);
  const payloads = new Array<unknown>(n);
  const occurred = new Array<string | null>(n);
  const at = now.getTime();
  for (let i = 0; i < n; i++) {
    const e = events[i] as StoredEvent;
    ids[i] = batchIds.index(e.executionId);
    sequences[i] = e.sequence;
    types[i] = e.type;
    payloads[i] = e.payload;
    occurred[i] = e.occurredAt.getTime() === at ? null : e.occurredAt.toISOString();
  }
  return INSERT_EVENTS({
    ids: batchIds.ids,
    now: now.toISOString(),
    rows: pgArray(ids),
    sequences: pgArray(sequences),
    types: pgArray(types),
    payloads: JSON.stringify(payloads),
    occurred: pgArray(occurred),
  });
}

/**
 * LOG events go to their own table (`domain/logs.ts` says why), as plain columns: no JSON to build or parse. Per line
 * only what varies is sent: the batch's time is one parameter (every line of a batch is recorded at `now`, and most
 * occurred then too: NULL says so), and the default stream is NULL; the arrays are built in one pass.
 */
const logsInsert = (p: Names) => sql`insert into execution_logs (execution_id, sequence, stream, level, text,
      occurred_at, recorded_at)
    select b.ids[l.id], l.sequence, coalesce(l.stream, 'stdout'), l.level, l.text, coalesce(l.occurred_at, b.now), b.now
    from (select ${p('ids')}::uuid[] as ids, ${p('now')}::timestamptz as now) b,
      unnest(${p('rows')}::int[], ${p('sequences')}::int[], ${p('streams')}::text[], ${p('levels')}::text[],
        ${p('texts')}::text[], ${p('occurred')}::timestamptz[]) as l(id, sequence, stream, level, text, occurred_at)`;
const INSERT_LOGS = fixed(logsInsert(v));

export function insertLogs(logs: readonly StoredEvent[], now: Date, batchIds: RowOf): Bound {
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
  return INSERT_LOGS({
    ids: batchIds.ids,
    now: now.toISOString(),
    rows: pgArray(ids),
    sequences: pgArray(sequences),
    streams: pgArray(streams),
    levels: pgArray(levels),
    texts: pgArray(texts),
    occurred: pgArray(occurred),
  });
}

/**
 * One guarded update of the batch's executions, answering `{ ok, xmin }`: `xmin` is the id of the writing transaction,
 * which every row it updates carries (`record-copies.ts`). Each row is guarded on the status it was read with, and,
 * when its copy's `xmin` is given, on being the version that transaction wrote. A mismatch divides by zero, which
 * aborts the transaction even when its COMMIT is already on the wire.
 */
const executionsUpdate = sql`update executions as e set
      status = v.status, progress = v.progress, steps = v.steps, output = v.output, error = v.error,
      started_at = v.started_at, completed_at = v.completed_at, last_sequence = v.last_sequence,
      total_messages = v.total, completed_messages = v.completed, failed_messages = v.failed,
      in_progress_messages = v.in_progress, updated_at = v.updated_at, heartbeat_deadline_at = v.heartbeat,
      tags = v.tags, log_bytes = v.log_bytes, log_truncated = v.log_truncated
    from unnest(${v('ids')}::uuid[], ${v('expected')}::execution_status[], ${v('status')}::execution_status[],
      ${v('progress')}::jsonb[], ${v('steps')}::jsonb[], ${v('output')}::jsonb[], ${v('error')}::jsonb[],
      ${v('startedAt')}::timestamptz[], ${v('completedAt')}::timestamptz[], ${v('lastSequence')}::int[],
      ${v('total')}::int[], ${v('completed')}::int[], ${v('failed')}::int[], ${v('inProgress')}::int[],
      ${v('updatedAt')}::timestamptz[], ${v('heartbeat')}::timestamptz[], ${v('tags')}::jsonb[],
      ${v('logBytes')}::bigint[], ${v('logTruncated')}::boolean[], ${v('xmins')}::xid[])
      as v(id, expected, status, progress, steps, output, error, started_at, completed_at, last_sequence, total,
           completed, failed, in_progress, updated_at, heartbeat, tags, log_bytes, log_truncated, xmin)
    where e.id = v.id and e.status = v.expected and (v.xmin is null or e.xmin = v.xmin)
    returning e.xmin`;
const guard = sql`select 1 / (count(*) = ${v('count')})::int as ok, max(xmin::text) as xmin from updated`;
const UPDATE_EXECUTIONS = fixed(sql`with updated as (${executionsUpdate}) ${guard}`);

/**
 * The check a batch from copies makes of its messages the copies do not know (`record-copies.ts`): that none was
 * reported before. One that was divides by zero, and the batch goes the way under the lock, which reads its lineage.
 * It probes `execution_events_message_idx` as `readMessages` does, with the batch's executions and message ids as two
 * lists (no join for the plan to choose: a prepared statement keeps the plan it chose on the first calls, when the
 * table may have been small), and keeps the exact pairs, each as `<index of its execution in the batch> <message id>`.
 */
const unreported = (p: Names) => sql`select 1 / (not exists (select from execution_events
      where type = 'MESSAGE' and execution_id = any(${p('ids')}::uuid[])
        and payload ->> 'messageId' = any(${p('messages')}::text[])
        and array_position(${p('ids')}::uuid[], execution_id) || ' ' || (payload ->> 'messageId')
          = any(${p('pairs')}::text[])))::int as fresh`;
const UNREPORTED = fixed(unreported(v));
export function unreportedMessages(pairs: readonly { row: number; messageId: string }[], batchIds: RowOf): Bound {
  return UNREPORTED({
    ids: batchIds.ids,
    messages: pgArray([...new Set(pairs.map((m) => m.messageId))]),
    pairs: pgArray(pairs.map((m) => `${m.row} ${m.messageId}`)),
  });
}

/**
 * A batch written from this process's copies of its rows (`record.ts`), as one statement, which PostgreSQL runs as
 * its own transaction: the guarded update (and its guard, which the answer reads, so it runs first: a copy out of
 * date divides by zero before the inserts run), the check of its new messages, then the events and the log lines
 * (empty arrays: none). Instead of BEGIN, the row lock and lineage read, then update, inserts and COMMIT pipelined,
 * which the server answers one by one (`status-change.ts` measured what the four cost). The values are those the
 * statements above are bound with, all but the update's under prefixes.
 */
const WRITE_FROM_COPY = fixed(sql`with updated as (${executionsUpdate}), guard as (${guard}),
    fresh as (${unreported((name) => v(`messages.${name}`))}),
    events as (${eventsInsert((name) => v(`events.${name}`))}), logs as (${logsInsert((name) => v(`logs.${name}`))})
    select ok, xmin, fresh from guard, fresh`);
const NO_ROWS = { ids: '{}', now: '1970-01-01T00:00:00Z', rows: '{}', sequences: '{}', occurred: '{}' };
const NO_EVENTS = { ...NO_ROWS, types: '{}', payloads: '[]' };
const NO_LOGS = { ...NO_ROWS, streams: '{}', levels: '{}', texts: '{}' };
const NO_MESSAGES = { ids: '{}', messages: '{}', pairs: '{}' };
const prefixed = (prefix: string, values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [`${prefix}${name}`, value]));

/**
 * The update, check and inserts a batch from copies writes (`updateExecutions`, `unreportedMessages`, `insertEvents`,
 * `insertLogs`, nothing else), as the one statement above, or null when they are anything else. Its one row answers
 * in the update's place.
 */
function writeAsOne(writes: readonly Bound[]): { bound: Bound; answers: number } | null {
  let update: Bound | undefined;
  let messages: Bound | undefined;
  let events: Bound | undefined;
  let logs: Bound | undefined;
  for (const w of writes) {
    if (w.query === UPDATE_EXECUTIONS.query && !update) update = w;
    else if (w.query === UNREPORTED.query && !messages) messages = w;
    else if (w.query === INSERT_EVENTS.query && !events) events = w;
    else if (w.query === INSERT_LOGS.query && !logs) logs = w;
    else return null;
  }
  if (!update) return null;
  const bound = WRITE_FROM_COPY({
    ...update.values,
    ...prefixed('messages.', messages?.values ?? NO_MESSAGES),
    ...prefixed('events.', events?.values ?? NO_EVENTS),
    ...prefixed('logs.', logs?.values ?? NO_LOGS),
  });
  return { bound, answers: writes.indexOf(update) };
}

export function updateExecutions(
  written: readonly Execution[],
  expected: ReadonlyMap<string, ExecutionStatus>,
  xmins?: ReadonlyMap<string, string>,
): Bound {
  const col = <T>(f: (e: Execution) => T) => pgArray(written.map((e) => f(e) as never));
  const json = (f: (e: Execution) => unknown) => col((e) => (f(e) == null ? null : JSON.stringify(f(e))));
  const time = (f: (e: Execution) => Date | null) => col((e) => f(e)?.toISOString() ?? null);
  return UPDATE_EXECUTIONS({
    ids: col((e) => e.id),
    expected: col((e) => expected.get(e.id)),
    status: col((e) => e.status),
    progress: json((e) => e.progress),
    steps: json((e) => e.steps),
    output: json((e) => e.output),
    error: json((e) => e.error),
    startedAt: time((e) => e.startedAt),
    completedAt: time((e) => e.completedAt),
    lastSequence: col((e) => e.lastSequence),
    total: col((e) => e.totalMessages),
    completed: col((e) => e.completedMessages),
    failed: col((e) => e.failedMessages),
    inProgress: col((e) => e.inProgressMessages),
    updatedAt: time((e) => e.updatedAt),
    heartbeat: time((e) => e.heartbeatDeadlineAt),
    tags: json((e) => e.tags),
    logBytes: col((e) => e.logBytes),
    logTruncated: col((e) => e.logTruncated),
    // Under the lock no row is guarded on its version: no array, which unnest pads with NULLs.
    xmins: xmins ? col((e) => xmins.get(e.id)) : '{}',
    count: written.length,
  });
}

/**
 * The pipeline a batch from copies is written with (`record.ts`): what it writes — the guarded update, the check of
 * its new messages, its events, its log lines; it reads nothing first — goes as the one statement of `writeAsOne`,
 * which PostgreSQL runs as its own transaction: one round trip, and one answer instead of one per statement of BEGIN,
 * update, inserts and COMMIT.
 * Anything else (a read, a handle of the transaction, other writes) throws: such a batch is not one from copies.
 */
export function asOneStatement(db: Db): Pipeline {
  const notFromCopy = () => new Error('not a batch written from copies');
  return {
    get tx(): Pipeline['tx'] {
      throw notFromCopy();
    },
    async send(statements, commit) {
      const one = commit && writeAsOne(statements.filter((s): s is Bound => 'query' in s && 'values' in s));
      if (!one || statements.length === 0) throw notFromCopy();
      const rows = await runBound(db, one.bound);
      return statements.map((_, i) => (i === one.answers ? rows : []));
    },
  };
}
