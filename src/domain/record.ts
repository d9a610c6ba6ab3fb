import { isConnectionFault } from '../db/faults.js';
import { type Pipeline, pipelinedTransaction, type Statement, sqlState } from '../db/pipeline.js';
import { type Principal, requireScope } from './access.js';
import { applyBatch, type MessageState } from './batch.js';
import {
  type BatchKey,
  batchKey,
  insertKeys,
  keyOf,
  readKeys,
  replayedEvents,
  replayOf,
  type StoredKey,
} from './batch-keys.js';
import { type DomainContext, hookWrites, prepareHooks, publish } from './context.js';
import { notFound, VigilError } from './errors.js';
import { isUuid } from './executions.js';
import { batchKeyInput, type ExecutionEventInput, parse } from './inputs.js';
import { parseEvents } from './plain-events.js';
import { copiesFor, dropCopies, keepCopies, messagesFromCopies, type RowCopy } from './record-copies.js';
import {
  asOneStatement,
  executionOf,
  insertEvents,
  insertLogs,
  lockExecutions,
  messageOf,
  readMessages,
  rowsOfBatch,
  type StoredEvent,
  unreportedMessages,
  updateExecutions,
} from './record-rows.js';
import { endByReport } from './status-change.js';
import { ownedBy } from './tenant.js';
import { type Change, type Execution, type ExecutionEvent, type ExecutionStatus, isTerminal } from './types.js';

export interface RecordResult {
  execution: Execution;
  /** The events this batch appended, in sequence order (a resume from INTERRUPTED included). */
  events: ExecutionEvent[];
}

interface Request {
  principal: Principal;
  executionId: string;
  inputs: ExecutionEventInput[];
  /** The worker's idempotency key for this batch (`batch-keys.ts`), with the batch's hash. */
  key?: BatchKey | undefined;
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
}

/** Requests that run together in one transaction at most; and transactions in flight at once per process. */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 3;
/**
 * Queued work (a unit per request and per event) that justifies a transaction beside those running: a commit costs
 * about as much as this much work, so below it requests wait for a running transaction to end and go in the next,
 * bigger one. Measured: one-event calls from 32 clients 4,700/s starting at once, 6,000–6,300/s waiting for 16.
 */
const JOIN_WORK = 32;

/**
 * Records a worker's batch of events, all or nothing (API.md §2). An empty batch is a heartbeat. Under the row lock
 * the batch is checked against the state machine (message lineage read from the MESSAGE events), then events and the
 * execution are written in one transaction, the execution through an update guarded on the status it was read with.
 *
 * Concurrent calls are coalesced: while transactions run, new requests queue and then go together in one transaction
 * (rows locked in id order, so batches never deadlock), each with its own outcome. At low load a request runs alone at
 * once; under load a commit (and its WAL flush) serves many requests. A batch whose rows this process wrote last goes
 * from its copies of them in one statement, without the lock (`record-copies.ts`), and under the lock if a copy turns
 * out to be out of date.
 *
 * With an `idempotencyKey`, a batch sent again under it answers its first outcome and writes nothing (`batch-keys.ts`).
 */
export async function recordEvents(
  ctx: DomainContext,
  principal: Principal,
  executionId: string,
  raw: unknown,
  idempotencyKey?: unknown,
): Promise<RecordResult> {
  requireScope(principal, 'executions:write');
  const inputs = parseEvents(raw, ctx.limits);
  const key = batchKey(parse(batchKeyInput, idempotencyKey, ['idempotencyKey']), inputs);
  if (!isUuid(executionId)) throw notFound(executionId);
  return new Promise((resolve, reject) => {
    const q = queueOf(ctx);
    q.pending.push({ principal, executionId, inputs, key, resolve, reject });
    q.work += 1 + inputs.length;
    pump(ctx);
  });
}

interface WriteQueue {
  pending: Request[];
  /** Of the pending requests, in the units of JOIN_WORK. */
  work: number;
  inFlight: number;
  /**
   * Executions whose transaction is sent but has not locked their rows yet: their next requests wait until it has,
   * so they are applied in order (the database then queues the next transaction behind the row locks).
   */
  busy: Set<string>;
  /** When each transaction in flight started (Date.now()), for readiness. */
  started: Set<{ at: number }>;
}
const queues = new WeakMap<DomainContext, WriteQueue>();

function queueOf(ctx: DomainContext): WriteQueue {
  let q = queues.get(ctx);
  if (!q) {
    q = { pending: [], work: 0, inFlight: 0, busy: new Set(), started: new Set() };
    queues.set(ctx, q);
  }
  return q;
}

/** How long the oldest write transaction of this process has been running, in ms; 0 when none is. */
export function oldestWriteMs(ctx: DomainContext, now = Date.now()): number {
  let oldest = now;
  for (const { at } of queues.get(ctx)?.started ?? []) oldest = Math.min(oldest, at);
  return now - oldest;
}

function pump(ctx: DomainContext): void {
  const q = queues.get(ctx);
  if (!q) return;
  while (q.inFlight < MAX_IN_FLIGHT && q.pending.length > 0 && (q.inFlight === 0 || q.work >= JOIN_WORK)) {
    // Take, in order, the requests whose execution is not waiting for its rows now; later requests for an execution
    // taken here stay behind (its requests keep their order).
    const batch: Request[] = [];
    const rest: Request[] = [];
    const taken = new Set<string>();
    const deferred = new Set<string>();
    for (const r of q.pending) {
      const id = r.executionId;
      const free = !q.busy.has(id) && !deferred.has(id) && (taken.has(id) || batch.length < MAX_BATCH);
      if (free) {
        batch.push(r);
        taken.add(id);
        q.work -= 1 + r.inputs.length;
      } else {
        rest.push(r);
        deferred.add(id);
      }
    }
    if (batch.length === 0) break;
    q.pending = rest;
    for (const id of taken) q.busy.add(id);
    q.inFlight += 1;
    const started = { at: Date.now() };
    q.started.add(started);
    let locked = false;
    // Once this batch holds its rows, the next one for them may go: the database queues it behind these locks.
    const onLocked = () => {
      if (locked) return;
      locked = true;
      for (const id of taken) q.busy.delete(id);
      pump(ctx);
    };
    void runBatch(ctx, batch, onLocked).finally(() => {
      q.inFlight -= 1;
      q.started.delete(started);
      onLocked();
      pump(ctx);
    });
  }
}

/** Runs a batch in one transaction; if the transaction itself fails, each request runs alone, so errors stay its own. */
async function runBatch(ctx: DomainContext, batch: Request[], onLocked?: () => void): Promise<void> {
  try {
    if (await endsInOneTrip(ctx, batch)) return;
    const copies = copiesFor(ctx, batch);
    const written = copies && (await writeFromCopies(ctx, batch, copies));
    const { outcomes, changes } =
      written ||
      (await pipelinedTransaction(ctx.db, (pipeline) => writeBatch(ctx, pipeline, batch, undefined, onLocked)));
    let appended = 0;
    for (const [i, request] of batch.entries()) {
      const outcome = outcomes[i];
      if (!outcome || 'error' in outcome) request.reject(outcome?.error ?? new VigilError('INTERNAL', 'no outcome'));
      else if (outcome.replay) {
        const { execution } = outcome.result;
        replayedEvents(ctx.db, execution.id, outcome.replay).then(
          (events) => request.resolve({ execution, events }),
          (err) => request.reject(err),
        );
      } else {
        appended += outcome.result.events.length;
        request.resolve(outcome.result);
      }
    }
    publish(ctx, changes);
    if (appended > 0) ctx.onRecorded?.(appended);
  } catch (err) {
    // Unreachable database or dropped connection: each request alone would fail the same way, so all fail at once.
    if (batch.length === 1 || isConnectionFault(err)) for (const request of batch) request.reject(err);
    else for (const request of batch) await runBatch(ctx, [request]);
  }
}

/** A worker's report that only ends its execution, in one statement (`endByReport`); answers whether it was. */
async function endsInOneTrip(ctx: DomainContext, batch: Request[]): Promise<boolean> {
  const [request] = batch;
  if (batch.length !== 1 || !request || request.key) return false;
  const ended = await endByReport(ctx, request.principal, request.executionId, request.inputs);
  if (!ended) return false;
  dropCopies(ctx, [request.executionId]);
  const { execution, events } = ended;
  request.resolve({ execution, events });
  publish(ctx, [{ executionId: execution.id, sequence: execution.lastSequence, committed: { execution, events } }]);
  ctx.onRecorded?.(events.length);
  return true;
}

/** Thrown inside a write from copies whose outcome the copies cannot decide: the batch goes the two-trip way. */
class NotFromCopy extends Error {}

/**
 * The writes in one statement (`asOneStatement`), the update guarded on each row being its copy. Answers null when
 * that did not commit for a reason of the copies (one was out of date: a guard failed, a message the copy did not
 * know had been reported, or another writer's rows were in the way; or a request did not apply to its copy): nothing
 * was written, and the caller writes the batch the usual way, under the row lock, where every error is decided
 * against the row as it is.
 */
async function writeFromCopies(
  ctx: DomainContext,
  batch: Request[],
  copies: ReadonlyMap<string, RowCopy>,
): Promise<Written | null> {
  try {
    return await writeBatch(ctx, asOneStatement(ctx.db), batch, copies);
  } catch (err) {
    dropCopies(ctx, copies.keys());
    // Nothing committed unless the connection failed (then nobody knows, and the caller must not write again).
    if (isConnectionFault(err)) throw err;
    return null;
  }
}

type Outcome = { result: RecordResult; replay?: { first: number; last: number } } | { error: unknown };
type Written = { outcomes: Outcome[]; changes: Change[] };
async function writeBatch(
  ctx: DomainContext,
  pipeline: Pipeline,
  batch: Request[],
  copies?: ReadonlyMap<string, RowCopy>,
  onLocked?: () => void,
): Promise<Written> {
  const now = ctx.now();
  const ids = [...new Set(batch.map((r) => r.executionId))].sort();
  // Until this transaction commits, its rows' copies would be out of date: a batch behind it reads under the lock.
  if (!copies) dropCopies(ctx, ids);
  // From copies no lineage is read: the copies know it, or the write checks it (below).
  const messageIds = copies
    ? []
    : [...new Set(batch.flatMap((r) => r.inputs.flatMap((e) => (e.message ? [e.message.messageId] : []))))];
  // Pipelined: the lineage read runs after the lock on the same connection, so it sees what the lock protects. Lists
  // go as one array parameter, so each statement has one text, prepared once per connection whatever the batch size
  // (postgres.js holds a statement it has not prepared yet until the server describes it: no pipelining then). The
  // lock and the lineage read are fixed statements (`record-rows.ts`), sent first; drizzle's handle of the
  // transaction is made only for what needs it (idempotency keys, hooks).
  const batchIds = rowsOfBatch(ids);
  const keyed = batch.flatMap((r) => (r.key ? [{ executionId: r.executionId, key: r.key.key }] : []));
  // A batch that reports a status change has the hooks' reads (the webhook endpoints) sent with the lock too, and
  // their writes go with COMMIT below.
  const reportsStatus = batch.some((r) => r.inputs.some((e) => e.statusChanged));
  const byTenant = new Map(batch.map((r) => [`${r.principal.organizationId}/${r.principal.environment}`, r.principal]));
  const tenants = reportsStatus ? [...byTenant.values()] : [];
  const reads: Statement[] = [];
  if (!copies) reads.push(lockExecutions(batchIds));
  if (messageIds.length > 0) reads.push(readMessages(batchIds, messageIds));
  const [read, storedKeys] = await Promise.all([
    reads.length > 0 ? pipeline.send(reads, false) : Promise.resolve([]),
    keyed.length > 0 ? readKeys(pipeline.tx, keyed) : Promise.resolve([]),
    tenants.length > 0 ? prepareHooks(ctx, pipeline.tx, tenants) : null,
  ]);
  const rows = copies
    ? [...copies.values()].map((c) => c.row)
    : (read[0] as Record<string, unknown>[]).map(executionOf);
  const found = messageIds.length > 0 ? (read.at(-1) as Record<string, unknown>[]).map(messageOf) : [];
  onLocked?.();
  const keys = new Map(storedKeys.map((k) => [keyOf(k.executionId, k.key), k]));
  const newKeys: StoredKey[] = [];
  const current = new Map(rows.map((r) => [r.id, r]));
  const original = new Map(rows.map((r) => [r.id, r.status]));
  // The state of each message the batch reports, per execution (read, from copies, or as this batch left it).
  const known = new Map<string, Map<string, MessageState>>();
  const messagesOf = (id: string) => {
    const list = known.get(id) ?? new Map<string, MessageState>();
    if (list.size === 0) known.set(id, list);
    return list;
  };
  for (const m of found) messagesOf(m.executionId).set(m.messageId, { status: m.status, counted: m.counted });
  // From copies: the states they know, and the messages they do not, which the write checks were never reported.
  const unreported = copies ? messagesFromCopies(copies, batch, messagesOf, batchIds.index) : [];

  const outcomes: Outcome[] = [];
  let events: StoredEvent[] = [];
  const statusChanges: { id: string; from: ExecutionStatus }[] = [];
  const touched = new Set<string>();
  const heartbeats = new Map<string, Date | null>();

  for (const request of batch) {
    const row = current.get(request.executionId);
    const { principal } = request;
    if (!row || !ownedBy(principal, row)) {
      outcomes.push({ error: notFound(request.executionId) });
      continue;
    }
    if (request.key) {
      try {
        const replay = replayOf(keys.get(keyOf(row.id, request.key.key)), request.key);
        if (replay) {
          outcomes.push({ result: { execution: row, events: [] }, replay });
          continue;
        }
      } catch (err) {
        outcomes.push({ error: err });
        continue;
      }
    }
    let applied: ReturnType<typeof applyBatch>;
    try {
      applied = applyBatch(row, request.inputs, messagesOf(row.id), now, ctx.limits?.logBytes);
    } catch (err) {
      if (copies) throw new NotFromCopy();
      outcomes.push({ error: err });
      continue;
    }
    if (copies && applied.statusChanges.length > 0) throw new NotFromCopy();
    const { state } = applied;
    const heartbeat =
      row.heartbeatTimeoutSeconds && !isTerminal(state.status)
        ? new Date(now.getTime() + row.heartbeatTimeoutSeconds * 1000)
        : null;
    if (row.heartbeatTimeoutSeconds) heartbeats.set(row.id, heartbeat);
    const appended = applied.events.map((e) => ({ executionId: row.id, ...e, recordedAt: now }));
    events.push(...appended);
    for (const [messageId, m] of applied.messages) messagesOf(row.id).set(messageId, m);
    const next: Execution =
      appended.length > 0
        ? {
            ...row,
            status: state.status,
            progress: state.progress,
            steps: state.steps,
            output: state.output,
            error: state.error,
            startedAt: state.startedAt,
            completedAt: state.completedAt,
            lastSequence: state.lastSequence,
            tags: state.tags,
            totalMessages: state.totalMessages,
            completedMessages: state.completedMessages,
            failedMessages: state.failedMessages,
            inProgressMessages: state.inProgressMessages,
            logBytes: state.logBytes,
            logTruncated: state.logTruncated,
            updatedAt: now,
            heartbeatDeadlineAt: heartbeat,
          }
        : { ...row, heartbeatDeadlineAt: row.heartbeatTimeoutSeconds ? heartbeat : row.heartbeatDeadlineAt };
    if (appended.length > 0) touched.add(row.id);
    for (const change of applied.statusChanges) statusChanges.push({ id: row.id, from: change.from });
    current.set(row.id, next);
    if (request.key) {
      const stored = {
        executionId: row.id,
        key: request.key.key,
        requestHash: request.key.hash,
        firstSequence: row.lastSequence + 1,
        lastSequence: next.lastSequence,
      };
      keys.set(keyOf(row.id, stored.key), stored);
      newKeys.push(stored);
    }
    outcomes.push({ result: { execution: next, events: appended } });
  }

  // Set-based statements of a fixed shape, whatever the batch holds (drizzle's builder would cost more CPU than the
  // database spends on them): the log lines, the other events (the message lineage with them: `readMessages`), and
  // one guarded update of the executions.
  const writes: Statement[] = [];
  const logs = events.filter((e) => e.type === 'LOG');
  if (logs.length > 0) events = events.filter((e) => e.type !== 'LOG');
  if (logs.length > 0) writes.push(insertLogs(logs, now, batchIds));
  if (events.length > 0) writes.push(insertEvents(events, now, batchIds));
  if (newKeys.length > 0) writes.push(insertKeys(newKeys, now));
  if (unreported.length > 0) writes.push(unreportedMessages(unreported, batchIds));
  // In id order, the order the lock takes them in (`lockExecutions`).
  const writtenIds = [...new Set([...touched, ...heartbeats.keys()])].sort();
  const written = writtenIds.map((id) => current.get(id) as Execution);
  const xmins = copies && new Map([...copies].map(([id, copy]) => [id, copy.xmin]));
  const update = written.length > 0 ? updateExecutions(written, original, xmins) : undefined;
  // From copies the update goes first: a failed guard aborts the transaction before the inserts can meet another
  // writer's rows (their error would then be a conflict instead of the guard's).
  if (update) copies ? writes.unshift(update) : writes.push(update);
  // The hooks' writes of each status change (once per execution, with its final state), then all of them pipelined
  // on the transaction's connection with COMMIT.
  for (const change of statusChanges) {
    writes.push(...(await hookWrites(ctx, pipeline.tx, current.get(change.id) as Execution, change.from, now)));
  }
  let results: unknown[][];
  try {
    results = await pipeline.send(writes, true);
  } catch (err) {
    // 22012: the guard above divided by zero
    if (sqlState(err) === '22012') throw new VigilError('INTERNAL', 'An execution changed under its row lock');
    throw err;
  }

  // The rows as committed are this process's copies of them; with a status change, hooks wrote in the transaction
  // too, and the next batch reads the row under the lock.
  const xmin = update && (results[writes.indexOf(update)]?.[0] as { xmin?: string } | undefined)?.xmin;
  if (xmin && statusChanges.length === 0) keepCopies(ctx, written, xmin, known, copies);

  // What committed goes to the feed with the change, so this process's listeners need not read it back.
  const appendedTo = new Map<string, ExecutionEvent[]>();
  for (const o of outcomes) {
    if ('error' in o || o.replay) continue;
    for (const e of o.result.events) {
      const list = appendedTo.get(e.executionId) ?? [];
      if (list.length === 0) appendedTo.set(e.executionId, list);
      list.push(e);
    }
  }
  const changes = [...touched].map((id) => {
    const execution = current.get(id) as Execution;
    const committed = { execution, events: appendedTo.get(id) ?? [] };
    return { executionId: id, sequence: execution.lastSequence, committed };
  });
  return { outcomes, changes };
}
