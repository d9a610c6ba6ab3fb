import { and, asc, eq, getTableColumns, inArray, lte, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { type Pipeline, pipelinedTransaction, type Statement, sqlState } from '../db/pipeline.js';
import { executionEvents, executions } from '../db/schema.js';
import { fixed } from '../db/statement-cache.js';
import { type Principal, requireScope } from './access.js';
import { closeOpenSteps, completionTime } from './batch.js';
import { type DomainContext, hookWrites, prepareHooks, publish, runHooks } from './context.js';
import { notFound, VigilError } from './errors.js';
import { isUuid } from './executions.js';
import { errorInfoInput, parse } from './inputs.js';
import { insertEvents, rowsOfBatch } from './record-rows.js';
import { endInOneTrip } from './status-change.js';
import { ownedBy, tenantOf } from './tenant.js';
import {
  type Change,
  CLIENT_TARGETS,
  type ClientTarget,
  type Execution,
  type ExecutionErrorInfo,
  type ExecutionEvent,
  type ExecutionStatus,
  isTerminal,
  NON_TERMINAL_STATUSES,
  type Step,
} from './types.js';

export interface StatusUpdateResult {
  success: boolean;
  execution: Execution;
  previousStatus: ExecutionStatus;
  currentStatus: ExecutionStatus;
  message: string;
}

/**
 * A client's status change (API.md §1): CANCELLED needs executions:write, FAILED and COMPLETED (clean-up of stuck
 * runs) need executions:admin. Allowed only from a non-terminal status; the same terminal status again is an
 * idempotent success. Guarded in SQL, so of racing updates exactly one wins and the others see its status.
 */
export async function updateStatusByClient(
  ctx: DomainContext,
  principal: Principal,
  id: string,
  target: ClientTarget,
  rawErrorInfo?: unknown,
  cascade = false,
): Promise<StatusUpdateResult> {
  requireScope(principal, target === 'CANCELLED' ? 'executions:write' : 'executions:admin');
  if (!CLIENT_TARGETS.includes(target)) {
    throw new VigilError('VALIDATION_FAILED', `status must be one of ${CLIENT_TARGETS.join(', ')}`, {
      issues: [{ loc: ['status'], msg: `must be one of ${CLIENT_TARGETS.join(', ')}`, type: 'enum' }],
    });
  }
  if (cascade && target !== 'CANCELLED') {
    throw new VigilError('VALIDATION_FAILED', 'cascade is only allowed with CANCELLED', {
      issues: [{ loc: ['cascade'], msg: 'only allowed with status CANCELLED', type: 'value_error' }],
    });
  }
  const errorInfo = rawErrorInfo == null ? null : parse(errorInfoInput, rawErrorInfo, ['errorInfo'], ctx.limits);
  if (!isUuid(id)) throw notFound(id);
  const error: ExecutionErrorInfo | null =
    target === 'FAILED'
      ? {
          code: typeof errorInfo?.code === 'string' ? errorInfo.code : 'MARKED_FAILED',
          message: typeof errorInfo?.message === 'string' ? errorInfo.message : 'Marked failed by an administrator',
          details: errorInfo,
        }
      : null;

  // One round trip when the change is all there is to do (`endInOneTrip`); a row it found terminal answers at once.
  if (!cascade) {
    const quick = await endInOneTrip(ctx, principal, id, target, error);
    if (quick?.ended) {
      publish(ctx, committedChanges([quick.execution], quick.events));
      return won(quick.execution, quick.previous, target);
    }
    if (quick && !quick.current) throw notFound(id);
    if (quick?.current && isTerminal(quick.current.status)) return settled(quick.current, target);
  }

  // Two round trips. BEGIN, the row lock and the hooks' reads (the webhook endpoints) go out together; then the
  // update, its events and the hooks' writes (the deliveries) go out with COMMIT: the rows are locked, so what the
  // update makes of them is known before it answers (a guard in it aborts the transaction were it not so).
  const result = await pipelinedTransaction(ctx.db, async ({ tx, send }) => {
    const [locked] = await Promise.all([
      cascade ? lockTree(tx, principal, id) : lockOne(tx, principal, id),
      prepareHooks(ctx, tx, [principal]),
    ]);
    const current = locked.find((row) => row.id === id);
    if (!current) throw notFound(id);
    const now = ctx.now(); // once the rows are ours: the time of the change
    // The named execution decides the outcome: when it is refused (another terminal status), so is the cascade.
    if (isTerminal(current.status) && current.status !== target) return { won: false as const, ended: [], events: [] };
    const ending = locked.filter((row) => !isTerminal(row.status));
    const { ended, events, writes } = endLocked(
      ending.map((row) => ({ row, error: row.id === id ? error : null })),
      target,
      now,
    );
    const from = new Map(locked.map((row) => [row.id, row.status]));
    for (const e of ended) writes.push(...(await hookWrites(ctx, tx, e, from.get(e.id) ?? 'RUNNING', now)));
    if (writes.length > 0) await sendWithCommit(send, writes);
    const named = ended.find((e) => e.id === id);
    return named
      ? { won: true as const, execution: named, previous: current.status, ended, events }
      : { won: false as const, ended, events };
  });
  // Every execution that changed, so the waiters and streams of each wake (API.md §8 cascade).
  publish(ctx, committedChanges(result.ended, result.events));

  if (result.won) return won(result.execution, result.previous, target);
  // Lost to a terminal status set first (by a race or before): same status is idempotent, anything else refused.
  const [execution] = (await ctx.db
    .select()
    .from(executions)
    .where(and(eq(executions.id, id), tenantOf(principal)))) as Execution[];
  if (!execution) throw notFound(id);
  return settled(execution, target);
}

function won(execution: Execution, previous: ExecutionStatus, target: ClientTarget): StatusUpdateResult {
  return {
    success: true,
    execution,
    previousStatus: previous,
    currentStatus: target,
    message: `Execution ${verbOf(target)}`,
  };
}

/** The answer for an execution already terminal: the same status is an idempotent success, another one refused. */
function settled(execution: Execution, target: ClientTarget): StatusUpdateResult {
  if (execution.status === target) {
    return {
      success: true,
      execution,
      previousStatus: target,
      currentStatus: target,
      message: `Execution was already ${target.toLowerCase()}`,
    };
  }
  throw new VigilError(
    'INVALID_STATUS_TRANSITION',
    `Cannot change status from ${execution.status} to ${target}: ${execution.status} is final`,
  );
}

/**
 * The named execution, locked (its whole row: the status change writes it without reading it back). By the primary
 * key alone, the tenant checked on the row (`ownedBy`); another tenant's row is let go with the transaction.
 */
async function lockOne(tx: Executor, principal: Principal, id: string): Promise<Execution[]> {
  const rows = (await tx.select().from(executions).where(eq(executions.id, id)).for('update')) as Execution[];
  return rows.filter((row) => ownedBy(principal, row));
}

/**
 * The named execution and all its descendants, locked in id order (as worker batches lock theirs, so the two never
 * deadlock). A descendant that a worker ends meanwhile is read, once its transaction commits, with its new status,
 * and endExecutions' guard leaves it alone: each execution ends exactly once.
 */
function lockTree(tx: Executor, principal: Principal, id: string): Promise<Execution[]> {
  return tx
    .select()
    .from(executions)
    .where(
      and(
        sql`${executions.id} in (with recursive tree(id) as (
          select ${id}::uuid
          union all
          select e.id from executions e join tree on e.parent_execution_id = tree.id
        ) select id from tree)`,
        tenantOf(principal),
      ),
    )
    .orderBy(asc(executions.id))
    .for('update') as Promise<Execution[]>;
}

/** Sends the writes with COMMIT; the guard of `endLocked` (a division by zero) is a fault of this server. */
async function sendWithCommit(send: Pipeline['send'], writes: Statement[]): Promise<void> {
  try {
    await send(writes, true);
  } catch (err) {
    if (sqlState(err) === '22012') throw new VigilError('INTERNAL', 'An execution changed under its row lock');
    throw err;
  }
}

function verbOf(target: ClientTarget): string {
  return target === 'CANCELLED' ? 'cancelled' : target === 'FAILED' ? 'marked failed' : 'marked completed';
}

const SWEEP_BATCH = 200;

/**
 * Moves executions past their deadline (`timeoutSeconds`) to TIMED_OUT. Safe with many instances: rows are claimed
 * with SKIP LOCKED and the update is guarded on a non-terminal status. Returns how many moved.
 */
export function timeOutExpired(ctx: DomainContext): Promise<number> {
  const error = (row: Locked): ExecutionErrorInfo => ({
    code: 'TIMED_OUT',
    message: `Execution exceeded its timeout of ${row.timeoutSeconds} s`,
  });
  return sweep(ctx, 'TIMED_OUT', executions.deadlineAt, NON_TERMINAL_STATUSES, error);
}

/** Moves executions whose worker stopped reporting (heartbeatTimeoutSeconds) to INTERRUPTED, which is not terminal. */
export function interruptSilent(ctx: DomainContext): Promise<number> {
  return sweep(ctx, 'INTERRUPTED', executions.heartbeatDeadlineAt, ['PENDING', 'RUNNING', 'WAITING_FOR_INPUT'], null);
}

async function sweep(
  ctx: DomainContext,
  to: ExecutionStatus,
  dueColumn: typeof executions.deadlineAt | typeof executions.heartbeatDeadlineAt,
  from: readonly ExecutionStatus[],
  error: ((row: Locked) => ExecutionErrorInfo) | null,
): Promise<number> {
  const now = ctx.now();
  const moved = await ctx.db.transaction(async (tx) => {
    const due = await tx
      .select(LOCKED)
      .from(executions)
      .where(and(lte(dueColumn, now), inArray(executions.status, [...from])))
      .orderBy(asc(dueColumn))
      .limit(SWEEP_BATCH)
      .for('update', { skipLocked: true });
    if (due.length === 0) return { final: [], events: [] };
    const previous = new Map(due.map((d) => [d.id, d.status]));
    let final: Execution[];
    let events: ExecutionEvent[] = [];
    if (isTerminal(to)) {
      ({ updated: final, events } = await endExecutions(
        tx,
        due.map((row) => ({ row, error: error?.(row) ?? null })),
        to,
        now,
      ));
    } else {
      final = (await tx
        .update(executions)
        .set({ status: to, updatedAt: now, lastSequence: sql`${executions.lastSequence} + 1` })
        .where(and(inArray(executions.id, [...previous.keys()]), inArray(executions.status, [...from])))
        .returning()) as Execution[];
      events = final.map((e) => ({
        executionId: e.id,
        sequence: e.lastSequence,
        type: 'STATUS_CHANGED' as const,
        payload: { from: previous.get(e.id), to },
        occurredAt: now,
        recordedAt: now,
      }));
      if (events.length > 0) await tx.insert(executionEvents).values(events);
    }
    for (const e of final) await runHooks(ctx, tx, e, previous.get(e.id) ?? 'RUNNING', now);
    return { final, events };
  });
  publish(ctx, committedChanges(moved.final, moved.events));
  return moved.final.length;
}

/** The feed's changes for executions a transaction ended, with what it committed (no read back needed). */
function committedChanges(rows: readonly Execution[], events: readonly ExecutionEvent[]): Change[] {
  const byId = new Map<string, ExecutionEvent[]>();
  for (const e of events) {
    const list = byId.get(e.executionId) ?? [];
    if (list.length === 0) byId.set(e.executionId, list);
    list.push(e);
  }
  return rows.map((execution) => ({
    executionId: execution.id,
    sequence: execution.lastSequence,
    committed: { execution, events: byId.get(execution.id) ?? [] },
  }));
}

/** What a status change reads of the executions it has locked. */
const LOCKED = {
  id: executions.id,
  status: executions.status,
  steps: executions.steps,
  lastSequence: executions.lastSequence,
  createdAt: executions.createdAt,
  startedAt: executions.startedAt,
  timeoutSeconds: executions.timeoutSeconds,
};
type Locked = Pick<Execution, keyof typeof LOCKED>;

/** What ending each locked row means: its completion time, its steps closed, its new last sequence. */
function planEnds<R extends Locked>(ends: readonly { row: R; error: ExecutionErrorInfo | null }[], now: Date) {
  return ends.map(({ row, error }) => {
    const completedAt = completionTime(row.createdAt, row.startedAt, now, now);
    const closing = closeOpenSteps(row.steps as Step[], completedAt);
    const sequence = row.lastSequence + closing.events.length + 1;
    return { row, error, completedAt, closing, sequence };
  });
}

/** The events of the planned ends: each one's closing steps first, the terminal one last. */
function endEvents(planned: ReturnType<typeof planEnds>, to: ExecutionStatus, now: Date): ExecutionEvent[] {
  return planned.flatMap((p) => {
    const ending = { from: p.row.status, to, ...(p.error && { error: p.error }) };
    return [
      ...p.closing.events.map((payload) => ({ type: 'STEP' as const, payload })),
      { type: 'STATUS_CHANGED' as const, payload: ending },
    ].map((x, i) => ({
      executionId: p.row.id,
      sequence: p.row.lastSequence + i + 1,
      ...x,
      occurredAt: p.completedAt,
      recordedAt: now,
    }));
  });
}

/**
 * Ends executions whose whole rows the caller has locked (API.md §1 "Time and open steps"), as `endExecutions` does,
 * but without waiting for the database: answers the rows as the update makes them and the two statements that write
 * them (one update, one insert), for the caller to send with COMMIT. The update is guarded on a non-terminal status;
 * under the locks every row matches, and were one not to, it divides by zero, which aborts the transaction even with
 * its COMMIT already on the wire.
 */
const v = (name: string) => sql.placeholder(name);
const END_LOCKED = fixed(sql`with ended as (update executions as e set status = ${v('to')}::execution_status,
      completed_at = v.completed_at, updated_at = ${v('now')}::timestamptz, heartbeat_deadline_at = null,
      last_sequence = v.last_sequence, steps = v.steps, error = coalesce(v.error, e.error)
    from unnest(${v('ids')}::uuid[], ${v('completedAt')}::timestamptz[], ${v('sequences')}::int[], ${v('steps')}::jsonb[],
      ${v('errors')}::jsonb[]) as v(id, completed_at, last_sequence, steps, error)
    where e.id = v.id and e.status = any(${pgArray(NON_TERMINAL_STATUSES)}::execution_status[])
    returning e.id)
    select 1 / (count(*) = ${v('count')})::int as ok from ended`);

function endLocked(
  ends: readonly { row: Execution; error: ExecutionErrorInfo | null }[],
  to: ExecutionStatus,
  now: Date,
): { ended: Execution[]; events: ExecutionEvent[]; writes: Statement[] } {
  if (ends.length === 0) return { ended: [], events: [], writes: [] };
  const planned = planEnds(ends, now);
  const events = endEvents(planned, to, now);
  const ended: Execution[] = planned.map((p) => ({
    ...p.row,
    status: to,
    completedAt: p.completedAt,
    updatedAt: now,
    heartbeatDeadlineAt: null,
    lastSequence: p.sequence,
    steps: p.closing.steps,
    error: p.error ?? p.row.error,
  }));
  const col = <T>(f: (p: (typeof planned)[number]) => T) => pgArray(planned.map((p) => f(p) as never));
  const update = END_LOCKED({
    to,
    now: now.toISOString(),
    ids: col((p) => p.row.id),
    completedAt: col((p) => p.completedAt.toISOString()),
    sequences: col((p) => p.sequence),
    steps: col((p) => JSON.stringify(p.closing.steps)),
    errors: col((p) => (p.error ? JSON.stringify(p.error) : null)),
    count: planned.length,
  });
  const rows = rowsOfBatch(planned.map((p) => p.row.id));
  return { ended, events, writes: [update, insertEvents(events, now, rows)] };
}

/**
 * Ends executions whose rows the caller has locked, at the server's time `now`: status `to`, `error` when given,
 * open steps closed (API.md §1 "Time and open steps"), and their events, the steps' first and the terminal one last.
 * One update guarded on a non-terminal status, one insert; returns the executions it ended.
 */
async function endExecutions(
  tx: Executor,
  ends: readonly { row: Locked; error: ExecutionErrorInfo | null }[],
  to: ExecutionStatus,
  now: Date,
): Promise<{ updated: Execution[]; events: ExecutionEvent[] }> {
  const planned = planEnds(ends, now);
  const col = <T>(f: (p: (typeof planned)[number]) => T) => pgArray(planned.map((p) => f(p) as never));
  const updating = tx
    .update(executions)
    .set({
      status: to,
      completedAt: sql`v.completed_at`,
      updatedAt: now,
      heartbeatDeadlineAt: null,
      lastSequence: sql`v.last_sequence`,
      steps: sql`v.steps`,
      error: sql`coalesce(v.error, ${executions.error})`,
    })
    .from(
      sql`unnest(${col((p) => p.row.id)}::uuid[], ${col((p) => p.completedAt.toISOString())}::timestamptz[],
        ${col((p) => p.sequence)}::int[], ${col((p) => JSON.stringify(p.closing.steps))}::jsonb[],
        ${col((p) => (p.error ? JSON.stringify(p.error) : null))}::jsonb[])
        as v(id, completed_at, last_sequence, steps, error)`,
    )
    .where(and(sql`${executions.id} = v.id`, inArray(executions.status, [...NON_TERMINAL_STATUSES])))
    .returning(getTableColumns(executions)) as Promise<Execution[]>;
  const events = endEvents(planned, to, now);
  // Sent together (one round trip): under the caller's row locks every planned row is updated, so the events are
  // known before the update answers; were one not, the transaction fails and rolls back with them.
  const [updated] = await Promise.all([updating, events.length > 0 ? tx.insert(executionEvents).values(events) : null]);
  if (updated.length !== planned.length) throw new VigilError('INTERNAL', 'An execution changed under its row lock');
  return { updated, events };
}
