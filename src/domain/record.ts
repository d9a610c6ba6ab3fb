import { and, eq, inArray, sql } from 'drizzle-orm';
import { executionEvents, executionMessages, executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { applyBatch, type MessageState } from './batch.js';
import { type DomainContext, publish, runHooks } from './context.js';
import { notFound, VigilError } from './errors.js';
import { isUuid, tenantOf } from './executions.js';
import { eventBatchInput, parse } from './inputs.js';
import { type Execution, type ExecutionEvent, isTerminal } from './types.js';

export interface RecordResult {
  execution: Execution;
  /** The events this batch appended, in sequence order (a resume from INTERRUPTED included). */
  events: ExecutionEvent[];
}

/**
 * Records a worker's batch of events, all or nothing (API.md §2). An empty batch is a heartbeat. Under the row lock
 * the batch is checked against the state machine, then events, message lineage and the execution are written in one
 * transaction, the execution through an update guarded on the status it was read with.
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
  const now = ctx.now();

  const result = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(executions)
      .where(and(eq(executions.id, executionId), tenantOf(principal)))
      .for('update');
    if (!row) throw notFound(executionId);
    const current = row as Execution;

    const messageIds = [...new Set(inputs.flatMap((e) => (e.message ? [e.message.messageId] : [])))];
    const known = new Map<string, MessageState>();
    if (messageIds.length > 0) {
      const rows = await tx
        .select()
        .from(executionMessages)
        .where(and(eq(executionMessages.executionId, executionId), inArray(executionMessages.messageId, messageIds)));
      for (const m of rows) known.set(m.messageId, { status: m.status, counted: m.counted });
    }

    const applied = applyBatch(current, inputs, known, now);
    const { state } = applied;
    const heartbeatDeadlineAt =
      current.heartbeatTimeoutSeconds && !isTerminal(state.status)
        ? new Date(now.getTime() + current.heartbeatTimeoutSeconds * 1000)
        : null;
    if (applied.events.length === 0 && heartbeatDeadlineAt === null) {
      return { execution: current, events: [] };
    }

    const events = applied.events.map((e) => ({ executionId, ...e, recordedAt: now }));
    if (events.length > 0) await tx.insert(executionEvents).values(events);
    if (applied.messages.size > 0) {
      await tx
        .insert(executionMessages)
        .values([...applied.messages].map(([messageId, m]) => ({ executionId, messageId, ...m })))
        .onConflictDoUpdate({
          target: [executionMessages.executionId, executionMessages.messageId],
          set: { status: sql`excluded.status`, counted: sql`excluded.counted` },
        });
    }
    const changed = events.length > 0;
    const [updated] = await tx
      .update(executions)
      .set({
        heartbeatDeadlineAt,
        ...(changed && {
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
        }),
      })
      .where(and(eq(executions.id, executionId), eq(executions.status, current.status)))
      .returning();
    if (!updated) throw new VigilError('INTERNAL', 'The execution changed under its row lock');
    const execution = updated as Execution;
    for (const change of applied.statusChanges) await runHooks(ctx, tx, execution, change.from, now);
    return { execution, events };
  });

  if (result.events.length > 0) {
    publish(ctx, [{ executionId, sequence: result.execution.lastSequence }]);
    ctx.onRecorded?.(result.events.length);
  }
  return result;
}
