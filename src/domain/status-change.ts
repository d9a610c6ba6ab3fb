import { type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import { executions } from '../db/schema.js';
import { type Fixed, fixed, runBound } from '../db/statement-cache.js';
import type { Principal } from './access.js';
import { isOpenStep, OPEN_STEP_STATUSES } from './batch.js';
import type { DomainContext, StatusChangeHook } from './context.js';
import type { ExecutionEventInput } from './inputs.js';
import { copyOf } from './record-copies.js';
import { executionOf } from './record-rows.js';
import {
  type Execution,
  type ExecutionErrorInfo,
  type ExecutionEvent,
  type ExecutionStatus,
  isTerminal,
  NON_TERMINAL_STATUSES,
  stepsOf,
} from './types.js';

/** What the one-trip change made of the named execution, or what it found there instead. */
export type OneTrip =
  /** Ended: the row as committed, the status it had, its one event. */
  | { ended: true; execution: Execution; previous: Execution['status']; events: ExecutionEvent[] }
  /** Not ended: the row as it was under the lock (null: no such execution for this principal). */
  | { ended: false; current: Execution | null };

const NON_TERMINAL = pgArray(NON_TERMINAL_STATUSES);
const OPEN_STEPS = pgArray(OPEN_STEP_STATUSES);

/**
 * A status change that ends one execution — a client's, or a worker's report of that alone (`record.ts`) — in one
 * statement (API.md §1), which PostgreSQL runs as its own transaction: it locks the row, ends the execution and
 * inserts its STATUS_CHANGED event, deciding in SQL what the two-trip path decides in code. It ends the row only when that is all there is to do: the row is non-terminal (the
 * one-winner guard), it has no open step (closing them needs their STEP events) and no hook would write (no webhook
 * endpoint). Otherwise it writes nothing, and the caller takes the two-trip path, unless the locked row answers
 * already (terminal, or not found). One statement, not BEGIN, lock, change and COMMIT pipelined: PostgreSQL answers
 * each of those on its own, and the four cost 0.64 ms more per change at the median on durable PostgreSQL (3.12
 * against 2.48 ms, alternating in one process: ARCHITECTURE.md, "One round trip").
 *
 * The lock is a `for update` in the statement's first part, so the rest reads the row as the lock found it: a change
 * committed meanwhile is the row the update's guards are checked on again (PostgreSQL re-reads a locked row's newest
 * version), so two changes racing still have one winner. The time of the change is the later of the caller's clock
 * and the row's last change under the lock (as the two-trip path reads its clock once the row is locked), computed in
 * SQL and read back, so the answer and the feed have the committed values. Hooks without a `quiet` condition never
 * take this path.
 *
 * Where the statement would write nothing, as far as this process knows, it is not sent (null): the hooks expect to
 * write for the tenant (its last read found a webhook endpoint), or this process's copy of the row (`record-copies.ts`)
 * has an open step. Those hints only choose the path; the statement's guards decide what it may write.
 *
 * The statement is built once per set of hooks (`fixed`), the call binding its values.
 */
export async function endInOneTrip(
  ctx: DomainContext,
  principal: Principal,
  id: string,
  /** A terminal status: a client's target, or a worker's report (`record.ts`). */
  target: ExecutionStatus,
  error: ExecutionErrorInfo | null,
): Promise<OneTrip | null> {
  for (const hook of ctx.hooks) if (!hook.quiet || hook.expectsWrites?.(principal)) return null;
  const copy = copyOf(ctx, id)?.row;
  if (copy && stepsOf(copy).some(isOpenStep)) return null;
  const [row] = await runBound(
    ctx.db,
    statementOf(ctx.hooks)({
      id,
      org: principal.organizationId,
      env: principal.environment,
      target,
      now: ctx.now().toISOString(),
      error: error ? JSON.stringify(error) : null,
    }),
  );
  const current = row ? executionOf(row) : null;
  if (!row || !current || row.ended_updated_at == null) return { ended: false, current };
  const at = executions.updatedAt.mapFromDriverValue(row.ended_updated_at as never) as Date;
  const completedAt = executions.completedAt.mapFromDriverValue(row.ended_completed_at as never) as Date;
  const execution: Execution = {
    ...current,
    status: target,
    completedAt,
    updatedAt: at,
    heartbeatDeadlineAt: null,
    lastSequence: current.lastSequence + 1,
    error: error ?? current.error,
  };
  const event: ExecutionEvent = {
    executionId: id,
    sequence: execution.lastSequence,
    type: 'STATUS_CHANGED',
    payload: { from: current.status, to: target, ...(error && { error }) },
    occurredAt: completedAt,
    recordedAt: at,
  };
  return { ended: true, execution, previous: current.status, events: [event] };
}

/**
 * A worker's report that ends its execution and says nothing else — one terminal `statusChanged` with no output and
 * no time of its own (the caller sees to one request and no idempotency key: `record.ts`) — is the change a client's
 * `updateExecutionStatus` makes, and goes in the same one statement: one round trip instead of two. That is how most
 * runs end, and what releases their waiters. Null when it is not such a report or the statement wrote nothing (an
 * open step to close, a hook that would write, a row already terminal or not found): the batch then goes the usual
 * way, which decides and words the outcome under the lock.
 */
export async function endByReport(
  ctx: DomainContext,
  principal: Principal,
  id: string,
  inputs: readonly ExecutionEventInput[],
): Promise<{ execution: Execution; events: ExecutionEvent[] } | null> {
  const input = inputs.length === 1 ? inputs[0] : undefined;
  const report = input?.statusChanged;
  if (!report || input.occurredAt || !isTerminal(report.to) || report.output !== undefined) return null;
  const ended = await endInOneTrip(ctx, principal, id, report.to, report.error ?? null);
  return ended?.ended ? ended : null;
}

const built = new WeakMap<readonly StatusChangeHook[], { hooks: number; end: Fixed }>();

/** The locked, guarded end, built for these hooks (every hook has its `quiet` condition). */
function statementOf(hooks: readonly StatusChangeHook[]): Fixed {
  const cached = built.get(hooks);
  if (cached?.hooks === hooks.length) return cached.end;
  const v = (name: string) => sql.placeholder(name);
  const quiet = hooks.map((hook) => sql` and ${(hook.quiet as () => SQL)()}`);
  // `p` is the row as the lock found it (the status before it ends); the update's guards are checked again on that row.
  // It is read by its primary key alone (`ownedBy` in tenant.ts says why), the tenant checked on it after.
  const end = fixed(sql`with p as materialized (select * from executions where ${executions.id} = ${v('id')}::uuid
        for update),
    ended as (update executions set status = ${v('target')}::execution_status,
        updated_at = greatest(${v('now')}::timestamptz, executions.updated_at),
        completed_at = greatest(${v('now')}::timestamptz, executions.updated_at, executions.created_at, executions.started_at),
        heartbeat_deadline_at = null, last_sequence = executions.last_sequence + 1,
        error = coalesce(${v('error')}::jsonb, executions.error)
      from p
      where executions.id = p.id and p.organization_id = ${v('org')} and p.environment = ${v('env')}
        and executions.status = any(${NON_TERMINAL}::execution_status[])
        and not exists (select 1 from jsonb_array_elements(executions.steps) s
          where s->>'status' = any(${OPEN_STEPS}::text[]))${sql.join(quiet)}
      returning executions.id, executions.last_sequence, executions.updated_at, executions.completed_at),
    event as (insert into execution_events (execution_id, sequence, type, payload, occurred_at, recorded_at)
      select ended.id, ended.last_sequence, 'STATUS_CHANGED'::execution_event_type,
        jsonb_build_object('from', p.status, 'to', ${v('target')}::text) || case when ${v('error')}::jsonb is null
          then '{}'::jsonb else jsonb_build_object('error', ${v('error')}::jsonb) end,
        ended.completed_at, ended.updated_at
      from ended, p)
    select p.*, ended.updated_at as ended_updated_at, ended.completed_at as ended_completed_at
      from p left join ended on true where p.organization_id = ${v('org')} and p.environment = ${v('env')}`);
  built.set(hooks, { hooks: hooks.length, end });
  return end;
}
