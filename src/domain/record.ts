import { and, asc, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { executionEvents, executionMessages, executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { applyBatch, type MessageState, type NewEvent } from './batch.js';
import { type DomainContext, publish, runHooks } from './context.js';
import { notFound, VigilError } from './errors.js';
import { isUuid } from './executions.js';
import { type ExecutionEventInput, eventBatchInput, parse } from './inputs.js';
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
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
}

/** Requests that run together in one transaction at most; and transactions in flight at once per process. */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 4;

/**
 * Records a worker's batch of events, all or nothing (API.md §2). An empty batch is a heartbeat. Under the row lock
 * the batch is checked against the state machine, then events, message lineage and the execution are written in one
 * transaction, the execution through an update guarded on the status it was read with.
 *
 * Concurrent calls are coalesced: while MAX_IN_FLIGHT transactions run, new requests queue and then go together in
 * one transaction (rows locked in id order, so batches never deadlock), each with its own outcome. At low load a
 * request runs alone at once; under load a commit (and its WAL flush) serves many requests.
 */
export async function recordEvents(
  ctx: DomainContext,
  principal: Principal,
  executionId: string,
  raw: unknown,
): Promise<RecordResult> {
  requireScope(principal, 'executions:write');
  const inputs = parse(eventBatchInput, raw, ['events']);
  if (!isUuid(executionId)) throw notFound(executionId);
  return new Promise((resolve, reject) => {
    queueOf(ctx).push({ principal, executionId, inputs, resolve, reject });
    pump(ctx);
  });
}

interface WriteQueue {
  pending: Request[];
  inFlight: number;
}
const queues = new WeakMap<DomainContext, WriteQueue>();

function queueOf(ctx: DomainContext): Request[] {
  let q = queues.get(ctx);
  if (!q) {
    q = { pending: [], inFlight: 0 };
    queues.set(ctx, q);
  }
  return q.pending;
}

function pump(ctx: DomainContext): void {
  const q = queues.get(ctx);
  if (!q) return;
  while (q.inFlight < MAX_IN_FLIGHT && q.pending.length > 0) {
    const batch = q.pending.splice(0, MAX_BATCH);
    q.inFlight += 1;
    void runBatch(ctx, batch).finally(() => {
      q.inFlight -= 1;
      pump(ctx);
    });
  }
}

/** Runs a batch in one transaction; if the transaction itself fails, each request runs alone, so errors stay its own. */
async function runBatch(ctx: DomainContext, batch: Request[]): Promise<void> {
  try {
    const { outcomes, changes } = await ctx.db.transaction((tx) => writeBatch(ctx, tx, batch));
    let appended = 0;
    for (const [i, request] of batch.entries()) {
      const outcome = outcomes[i];
      if (!outcome || 'error' in outcome) request.reject(outcome?.error ?? new VigilError('INTERNAL', 'no outcome'));
      else {
        appended += outcome.result.events.length;
        request.resolve(outcome.result);
      }
    }
    publish(ctx, changes);
    if (appended > 0) ctx.onRecorded?.(appended);
  } catch (err) {
    if (batch.length === 1) batch[0]?.reject(err);
    else for (const request of batch) await runBatch(ctx, [request]);
  }
}

type Outcome = { result: RecordResult } | { error: unknown };

async function writeBatch(
  ctx: DomainContext,
  tx: Tx,
  batch: Request[],
): Promise<{ outcomes: Outcome[]; changes: Change[] }> {
  const now = ctx.now();
  const ids = [...new Set(batch.map((r) => r.executionId))].sort();
  const rows = (await tx
    .select()
    .from(executions)
    .where(inArray(executions.id, ids))
    .orderBy(asc(executions.id))
    .for('update')) as Execution[];
  const current = new Map(rows.map((r) => [r.id, r]));
  const original = new Map(rows.map((r) => [r.id, r.status]));

  const messageIds = [
    ...new Set(batch.flatMap((r) => r.inputs.flatMap((e) => (e.message ? [e.message.messageId] : [])))),
  ];
  const known = new Map<string, MessageState>(); // by `${executionId}\u0000${messageId}`
  if (messageIds.length > 0) {
    const found = await tx
      .select()
      .from(executionMessages)
      .where(and(inArray(executionMessages.executionId, ids), inArray(executionMessages.messageId, messageIds)));
    for (const m of found) known.set(`${m.executionId}\u0000${m.messageId}`, { status: m.status, counted: m.counted });
  }

  const outcomes: Outcome[] = [];
  const events: (NewEvent & { executionId: string; recordedAt: Date })[] = [];
  const messageWrites = new Map<string, { executionId: string; messageId: string } & MessageState>();
  const statusChanges: { id: string; from: ExecutionStatus }[] = [];
  const touched = new Set<string>();
  const heartbeats = new Map<string, Date | null>();

  for (const request of batch) {
    const row = current.get(request.executionId);
    const { principal } = request;
    if (!row || row.organizationId !== principal.organizationId || row.environment !== principal.environment) {
      outcomes.push({ error: notFound(request.executionId) });
      continue;
    }
    let applied: ReturnType<typeof applyBatch>;
    try {
      const mine = new Map<string, MessageState>();
      for (const e of request.inputs) {
        const key = e.message && `${row.id}\u0000${e.message.messageId}`;
        const state = key ? known.get(key) : undefined;
        if (e.message && state) mine.set(e.message.messageId, state);
      }
      applied = applyBatch(row, request.inputs, mine, now);
    } catch (err) {
      outcomes.push({ error: err });
      continue;
    }
    const { state } = applied;
    const heartbeat =
      row.heartbeatTimeoutSeconds && !isTerminal(state.status)
        ? new Date(now.getTime() + row.heartbeatTimeoutSeconds * 1000)
        : null;
    if (row.heartbeatTimeoutSeconds) heartbeats.set(row.id, heartbeat);
    const appended = applied.events.map((e) => ({ executionId: row.id, ...e, recordedAt: now }));
    events.push(...appended);
    for (const [messageId, m] of applied.messages) {
      const key = `${row.id}\u0000${messageId}`;
      known.set(key, m);
      messageWrites.set(key, { executionId: row.id, messageId, ...m });
    }
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
            totalMessages: state.totalMessages,
            completedMessages: state.completedMessages,
            failedMessages: state.failedMessages,
            inProgressMessages: state.inProgressMessages,
            updatedAt: now,
            heartbeatDeadlineAt: heartbeat,
          }
        : { ...row, heartbeatDeadlineAt: row.heartbeatTimeoutSeconds ? heartbeat : row.heartbeatDeadlineAt };
    if (appended.length > 0) touched.add(row.id);
    for (const change of applied.statusChanges) statusChanges.push({ id: row.id, from: change.from });
    current.set(row.id, next);
    outcomes.push({ result: { execution: next, events: appended } });
  }

  if (events.length > 0) await tx.insert(executionEvents).values(events);
  if (messageWrites.size > 0) {
    await tx
      .insert(executionMessages)
      .values([...messageWrites.values()])
      .onConflictDoUpdate({
        target: [executionMessages.executionId, executionMessages.messageId],
        set: { status: sql`excluded.status`, counted: sql`excluded.counted` },
      });
  }
  // One update per execution, guarded on the status it was read with (under the row lock it always matches).
  const writes = [...new Set([...touched, ...heartbeats.keys()])].map(async (id) => {
    const e = current.get(id) as Execution;
    const changed = touched.has(id);
    const [updated] = await tx
      .update(executions)
      .set({
        heartbeatDeadlineAt: e.heartbeatDeadlineAt,
        ...(changed && {
          status: e.status,
          progress: e.progress,
          steps: e.steps,
          output: e.output,
          error: e.error,
          startedAt: e.startedAt,
          completedAt: e.completedAt,
          lastSequence: e.lastSequence,
          totalMessages: e.totalMessages,
          completedMessages: e.completedMessages,
          failedMessages: e.failedMessages,
          inProgressMessages: e.inProgressMessages,
          updatedAt: e.updatedAt,
        }),
      })
      .where(and(sql`${executions.id} = ${id}`, sql`${executions.status} = ${original.get(id)}`))
      .returning({ id: executions.id });
    if (!updated) throw new VigilError('INTERNAL', 'The execution changed under its row lock');
  });
  await Promise.all(writes);
  for (const change of statusChanges) await runHooks(ctx, tx, current.get(change.id) as Execution, change.from, now);
  const changes = [...touched].map((id) => ({
    executionId: id,
    sequence: (current.get(id) as Execution).lastSequence,
  }));
  return { outcomes, changes };
}
