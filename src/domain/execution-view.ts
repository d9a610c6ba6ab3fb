import { tagsOf } from './tags.js';
import {
  durationMsOf,
  type Execution,
  type ExecutionErrorInfo,
  errorOf,
  progressOf,
  statsOf,
  stepsOf,
  triggerOf,
} from './types.js';

/** DateTime as the GraphQL scalar serializes it: ISO 8601 in UTC. */
const iso = (v: Date | string | null | undefined): string | null =>
  v == null ? null : v instanceof Date ? v.toISOString() : new Date(v).toISOString();

const errorJson = (e: ExecutionErrorInfo | null | undefined) =>
  e ? { code: e.code, message: e.message, step: e.step ?? null, details: e.details ?? null } : null;

/**
 * The execution exactly as GraphQL's `Execution` type gives it (every field but `events` and `logs`, which take arguments):
 * the same names, the same null for absent values, the same enum spellings, the same timestamps. Webhook receivers
 * and GraphQL clients parse one shape; test/webhooks/payload.test.ts compares this with a query of every field.
 */
export function executionJson(e: Execution) {
  const progress = progressOf(e);
  const trigger = triggerOf(e);
  return {
    id: e.id,
    organizationId: e.organizationId,
    environment: e.environment === 'live' ? ('LIVE' as const) : ('TEST' as const),
    workflowId: e.workflowId,
    workflowVersion: e.workflowVersion ?? null,
    status: e.status,
    progress: progress ? { step: progress.step ?? null, percentage: progress.percentage } : null,
    inputs: e.inputs ?? null,
    output: e.output ?? null,
    metadata: e.metadata ?? null,
    resolvedVariables: e.resolvedVariables ?? null,
    error: errorJson(errorOf(e)),
    trigger: {
      type: trigger.type,
      eventId: trigger.eventId ?? null,
      eventType: trigger.eventType ?? null,
      entityType: trigger.entityType ?? null,
      entityId: trigger.entityId ?? null,
    },
    initiatedBy: e.initiatedBy ?? null,
    createdAt: e.createdAt.toISOString(),
    startedAt: iso(e.startedAt),
    completedAt: iso(e.completedAt),
    updatedAt: e.updatedAt.toISOString(),
    durationMs: durationMsOf(e),
    stats: statsOf(e),
    steps: stepsOf(e).map((s) => ({
      id: s.id,
      name: s.name ?? null,
      type: s.type ?? null,
      status: s.status,
      startedAt: iso(s.startedAt),
      completedAt: iso(s.completedAt),
      durationMs: s.durationMs ?? null,
      error: errorJson(s.error),
      outputs: s.outputs ?? null,
      artifacts: s.artifacts ?? null,
      rowCounts: s.rowCounts ?? null,
      columns: s.columns ?? null,
      skipped: s.skipped,
    })),
    lastSequence: e.lastSequence,
    timeoutSeconds: e.timeoutSeconds ?? null,
    heartbeatTimeoutSeconds: e.heartbeatTimeoutSeconds ?? null,
    deadlineAt: iso(e.deadlineAt),
    tags: tagsOf(e),
    parentExecutionId: e.parentExecutionId ?? null,
    rootExecutionId: e.rootExecutionId,
    attempt: e.attempt,
    retryOf: e.retryOf ?? null,
    pinned: e.pinned,
    logBytes: Number(e.logBytes),
    logTruncated: e.logTruncated,
  };
}

export type ExecutionJson = ReturnType<typeof executionJson>;
