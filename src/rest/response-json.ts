import { z } from 'zod';
import { executionJson as graphqlShape } from '../domain/execution-view.js';
import {
  EVENT_TYPES,
  EXECUTION_STATUSES,
  type Execution,
  type ExecutionEvent,
  progressOf,
  STEP_STATUSES,
} from '../domain/types.js';

/** JSON objects stay as they are; null becomes {}; any other JSON value is kept under `value`. */
export function objectOf(value: unknown): Record<string, unknown> {
  if (value == null) return {};
  return typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

const _iso = (d: Date | null) => d?.toISOString() ?? null;
const Timestamp = z.string().meta({ description: 'ISO 8601, UTC' });

const ErrorJson = z.object({
  code: z.string(),
  message: z.string(),
  step: z.string().nullable(),
  details: z.unknown(),
});

export const ExecutionJson = z
  .object({
    id: z.uuid(),
    organizationId: z.string(),
    environment: z.enum(['test', 'live']),
    workflowId: z.string(),
    workflowVersion: z.string().nullable(),
    status: z.enum(EXECUTION_STATUSES),
    progress: z.object({ step: z.string().nullable(), percentage: z.number() }).nullable(),
    inputs: z.unknown(),
    output: z.unknown(),
    metadata: z.unknown(),
    resolvedVariables: z.unknown(),
    error: ErrorJson.nullable(),
    trigger: z.object({
      type: z.string(),
      eventId: z.string().nullable(),
      eventType: z.string().nullable(),
      entityType: z.string().nullable(),
      entityId: z.string().nullable(),
    }),
    initiatedBy: z.string().nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    updatedAt: Timestamp,
    durationMs: z.number().nullable(),
    stats: z.object({
      totalMessages: z.int(),
      completedMessages: z.int(),
      failedMessages: z.int(),
      inProgressMessages: z.int(),
      successRate: z.number(),
    }),
    steps: z.array(
      z.object({
        id: z.string(),
        name: z.string().nullable(),
        type: z.string().nullable(),
        status: z.enum(STEP_STATUSES),
        startedAt: Timestamp.nullable(),
        completedAt: Timestamp.nullable(),
        durationMs: z.number().nullable(),
        error: ErrorJson.nullable(),
        outputs: z.unknown(),
        artifacts: z.unknown(),
        rowCounts: z.unknown(),
        columns: z.unknown(),
        skipped: z.boolean(),
      }),
    ),
    lastSequence: z.int().meta({ description: 'Sequence of the newest event (0 = none)' }),
    timeoutSeconds: z.int().nullable(),
    heartbeatTimeoutSeconds: z.int().nullable(),
    deadlineAt: Timestamp.nullable(),
    tags: z.array(z.object({ key: z.string(), value: z.string() })).meta({ description: 'Sorted by key' }),
    parentExecutionId: z.uuid().nullable(),
    rootExecutionId: z.uuid().meta({ description: 'Its own id when it has no parent' }),
    attempt: z.int().meta({ description: "1, or retryOf's attempt + 1" }),
    retryOf: z.uuid().nullable(),
    pinned: z.boolean(),
    logBytes: z.number().meta({ description: "Bytes of the worker's log text stored" }),
    logTruncated: z.boolean().meta({ description: 'True once output past the per-execution cap was dropped' }),
  })
  .meta({ id: 'Execution', description: "Vigil's own execution shape: GraphQL's Execution as JSON" });

const EventJson = z
  .object({
    sequence: z.int(),
    executionId: z.uuid(),
    type: z.enum(EVENT_TYPES),
    occurredAt: Timestamp,
  })
  .catchall(z.unknown())
  .meta({
    id: 'ExecutionEvent',
    description:
      "GraphQL's event as JSON: STATUS_CHANGED {from, to, error?}, PROGRESS {step, percentage}, " +
      'STEP {stepId, stepType, name, status, …}, MESSAGE {messageId, adapter, status, error?}, ' +
      'TAGS_CHANGED {set: [{key, value}], removed}, LOG {stream, level, text}',
  });

export const RecordResultJson = z
  .object({ execution: ExecutionJson, events: z.array(EventJson).meta({ description: 'The events appended' }) })
  .meta({ id: 'RecordExecutionEventsResult' });

/** The last reported progress, its step null when none was given. */
export function progressJson(e: Execution): { step: string | null; percentage: number } | null {
  const progress = progressOf(e);
  return progress ? { step: progress.step ?? null, percentage: progress.percentage } : null;
}

/** The execution in GraphQL's shape (the one serializer, shared with webhooks), `environment` as REST spells it. */
export function executionJson(e: Execution): z.infer<typeof ExecutionJson> {
  return { ...graphqlShape(e), environment: e.environment };
}

/** A stored event, its payload flattened in; a step's own `type` becomes `stepType`, as in GraphQL. */
export function eventJson(e: ExecutionEvent): z.infer<typeof EventJson> {
  const { type: stepType, ...payload } = e.payload;
  return {
    ...(e.type === 'STEP' ? { ...payload, stepType: stepType ?? null } : e.payload),
    sequence: e.sequence,
    executionId: e.executionId,
    type: e.type,
    occurredAt: e.occurredAt.toISOString(),
  };
}
