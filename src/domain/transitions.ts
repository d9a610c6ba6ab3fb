import { and, asc, eq, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { executionEvents, executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { type DomainContext, publish, runHooks } from './context.js';
import { notFound, VigilError } from './errors.js';
import { isUuid, tenantOf } from './executions.js';
import { errorInfoInput, parse } from './inputs.js';
import {
  CLIENT_TARGETS,
  type ClientTarget,
  type Execution,
  type ExecutionErrorInfo,
  type ExecutionStatus,
  isTerminal,
  NON_TERMINAL_STATUSES,
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
): Promise<StatusUpdateResult> {
  requireScope(principal, target === 'CANCELLED' ? 'executions:write' : 'executions:admin');
  if (!CLIENT_TARGETS.includes(target)) {
    throw new VigilError('VALIDATION_FAILED', `status must be one of ${CLIENT_TARGETS.join(', ')}`, {
      issues: [{ loc: ['status'], msg: `must be one of ${CLIENT_TARGETS.join(', ')}`, type: 'enum' }],
    });
  }
  const errorInfo = rawErrorInfo == null ? null : parse(errorInfoInput, rawErrorInfo, ['errorInfo']);
  if (!isUuid(id)) throw notFound(id);
  const now = ctx.now();
  const error: ExecutionErrorInfo | null =
    target === 'FAILED'
      ? {
          code: typeof errorInfo?.code === 'string' ? errorInfo.code : 'MARKED_FAILED',
          message: typeof errorInfo?.message === 'string' ? errorInfo.message : 'Marked failed by an administrator',
          details: errorInfo,
        }
      : null;

  const result = await ctx.db.transaction(async (tx) => {
    const [current] = await tx
      .select({ status: executions.status })
      .from(executions)
      .where(and(eq(executions.id, id), tenantOf(principal)))
      .for('update');
    if (!current) throw notFound(id);
    const [updated] = await tx
      .update(executions)
      .set({
        status: target,
        completedAt: now,
        updatedAt: now,
        heartbeatDeadlineAt: null,
        lastSequence: sql`${executions.lastSequence} + 1`,
        ...(error && { error }),
      })
      .where(and(eq(executions.id, id), inArray(executions.status, [...NON_TERMINAL_STATUSES])))
      .returning();
    if (!updated) return { won: false as const };
    const execution = updated as Execution;
    await tx.insert(executionEvents).values({
      executionId: id,
      sequence: execution.lastSequence,
      type: 'STATUS_CHANGED',
      payload: { from: current.status, to: target, ...(error && { error }) },
      occurredAt: now,
      recordedAt: now,
    });
    await runHooks(ctx, tx, execution, current.status, now);
    return { won: true as const, execution, previous: current.status };
  });

  if (result.won) {
    publish(ctx, [{ executionId: id, sequence: result.execution.lastSequence }]);
    return {
      success: true,
      execution: result.execution,
      previousStatus: result.previous,
      currentStatus: target,
      message: `Execution ${verbOf(target)}`,
    };
  }
  // Lost to a terminal status set first (by a race or before): same status is idempotent, anything else refused.
  const [execution] = (await ctx.db
    .select()
    .from(executions)
    .where(and(eq(executions.id, id), tenantOf(principal)))) as Execution[];
  if (!execution) throw notFound(id);
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

function verbOf(target: ClientTarget): string {
  return target === 'CANCELLED' ? 'cancelled' : target === 'FAILED' ? 'marked failed' : 'marked completed';
}

const SWEEP_BATCH = 200;

/**
 * Moves executions past their deadline (`timeoutSeconds`) to TIMED_OUT. Safe with many instances: rows are claimed
 * with SKIP LOCKED and the update is guarded on a non-terminal status. Returns how many moved.
 */
export function timeOutExpired(ctx: DomainContext): Promise<number> {
  const error = sql`jsonb_build_object('code', 'TIMED_OUT', 'message',
    'Execution exceeded its timeout of ' || ${executions.timeoutSeconds} || ' s')`;
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
  error: SQL | null,
): Promise<number> {
  const now = ctx.now();
  const moved = await ctx.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: executions.id, status: executions.status })
      .from(executions)
      .where(and(lte(dueColumn, now), inArray(executions.status, [...from])))
      .orderBy(asc(dueColumn))
      .limit(SWEEP_BATCH)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    const previous = new Map(due.map((d) => [d.id, d.status]));
    const updated = (await tx
      .update(executions)
      .set({
        status: to,
        updatedAt: now,
        lastSequence: sql`${executions.lastSequence} + 1`,
        ...(isTerminal(to) && { completedAt: now, heartbeatDeadlineAt: null }),
        ...(error && { error }),
      })
      .where(and(inArray(executions.id, [...previous.keys()]), inArray(executions.status, [...from])))
      .returning()) as Execution[];
    const final = updated;
    if (final.length > 0) {
      await tx.insert(executionEvents).values(
        final.map((e) => ({
          executionId: e.id,
          sequence: e.lastSequence,
          type: 'STATUS_CHANGED' as const,
          payload: { from: previous.get(e.id), to, ...(e.error ? { error: e.error } : {}) },
          occurredAt: now,
          recordedAt: now,
        })),
      );
    }
    for (const e of final) await runHooks(ctx, tx, e, previous.get(e.id) ?? 'RUNNING', now);
    return final;
  });
  publish(
    ctx,
    moved.map((e) => ({ executionId: e.id, sequence: e.lastSequence })),
  );
  return moved.length;
}
