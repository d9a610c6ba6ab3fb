import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { durationMsOf, type Execution, errorOf, type Step, stepsOf, triggerOf } from '../domain/types.js';
import { responseClosed, waitForExecution } from '../feed/wait.js';
import type { RestApp, RestDeps } from './context.js';
import { objectOf } from './response-json.js';
import { errorResponses, jsonContent, queryNumber, SECURITY } from './schemas.js';
import { SEED001_STATUS, wordsOf } from './vocabulary.js';

const DEFAULT_TIMEOUT_MS = 30_000;

const JsonObject = z.record(z.string(), z.unknown());

const NodeTrace = z
  .object({
    nodeId: z.string().meta({ description: 'The step id a worker reported' }),
    type: z.string().nullable(),
    durationMs: z.int().nullable().meta({ description: 'null until the step finished' }),
    error: z.string().nullable().meta({ description: "The step error's message" }),
    skipped: z.boolean(),
    rowCounts: JsonObject,
    columns: JsonObject,
    outputs: JsonObject,
  })
  .meta({ id: 'NodeTrace' });

const WorkflowExecution = z
  .object({
    id: z.uuid(),
    organizationId: z.string(),
    environment: z.enum(['test', 'live']),
    workflowId: z.string(),
    eventId: z.string().meta({ description: 'trigger.eventId; "" when the trigger had none' }),
    triggerType: z.string(),
    entityType: z.string().nullable(),
    entityId: z.string().nullable(),
    eventType: z.string().nullable(),
    status: z.enum(wordsOf(SEED001_STATUS)),
    error: z.string().nullable().meta({ description: "The execution error's message" }),
    alertIds: z.array(z.string()).meta({ description: 'Always [] (Vigil has no alerts)' }),
    durationMs: z.int().nullable().meta({ description: 'completedAt − (startedAt ?? createdAt); null until terminal' }),
    initiatedBy: z
      .string()
      .nullable()
      .meta({ description: 'User ID that initiated this execution (null for system-triggered runs)' }),
    createdAt: z.string().meta({ description: 'ISO 8601, UTC' }),
    producedRecords: z.array(JsonObject).meta({ description: 'Always [] (no source in Vigil)' }),
    producedFiles: z.array(JsonObject).meta({ description: 'Always [] (no source in Vigil)' }),
    completedAt: z.string().nullable(),
    inputs: JsonObject,
    resolvedVariables: JsonObject,
    workflowTrace: z.object({
      workflowSnapshot: z
        .object({ nodes: z.array(z.unknown()), edges: z.array(z.unknown()) })
        .meta({ description: 'metadata.workflowSnapshot given at creation, else empty' }),
      nodeTraces: z.array(NodeTrace).meta({ description: 'The steps workers reported, in first-seen order' }),
      durationMs: z.int().nullable(),
      error: z.string().nullable(),
    }),
    warnings: z.array(JsonObject).meta({ description: 'Always [] (no source in Vigil)' }),
  })
  .meta({ id: 'WorkflowExecution' });

const route = createRoute({
  method: 'get',
  path: '/workflows/executions/{id}/wait',
  operationId: 'waitForWorkflowExecution',
  tags: ['Waiting and streaming'],
  summary: 'Wait until a workflow execution ends, then get all of it: steps, trace, output (long-poll)',
  description:
    'Answers with the whole execution as soon as it is terminal (at once when it already is), or with its current ' +
    'state when `timeoutMs` passes (still 200: check `status`).\n\n' +
    "Compatibility note: the shape of seed 001 (camelCase, seed 001's status words).",
  security: SECURITY,
  request: {
    params: z.object({ id: z.uuid() }),
    query: z.object({
      timeoutMs: queryNumber(z.int().min(1000).max(60_000).default(DEFAULT_TIMEOUT_MS)).meta({
        description: `How long to wait, in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
      }),
    }),
  },
  responses: {
    200: jsonContent(WorkflowExecution, 'OK: the execution, terminal or as it is at the timeout'),
    ...errorResponses(404, 422, 503),
  },
});

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function nodeTrace(s: Step): z.infer<typeof NodeTrace> {
  return {
    nodeId: s.id,
    type: s.type,
    durationMs: s.durationMs,
    error: s.error?.message ?? null,
    skipped: s.skipped,
    rowCounts: objectOf(s.rowCounts),
    columns: objectOf(s.columns),
    outputs: objectOf(s.outputs),
  };
}

export function workflowExecutionJson(e: Execution): z.infer<typeof WorkflowExecution> {
  const trigger = triggerOf(e);
  const error = errorOf(e)?.message ?? null;
  const durationMs = durationMsOf(e);
  const snapshot = objectOf(objectOf(e.metadata).workflowSnapshot);
  return {
    id: e.id,
    organizationId: e.organizationId,
    environment: e.environment,
    workflowId: e.workflowId,
    eventId: trigger.eventId ?? '',
    triggerType: trigger.type,
    entityType: trigger.entityType ?? null,
    entityId: trigger.entityId ?? null,
    eventType: trigger.eventType ?? null,
    status: SEED001_STATUS[e.status],
    error,
    alertIds: [],
    durationMs,
    initiatedBy: e.initiatedBy,
    createdAt: e.createdAt.toISOString(),
    producedRecords: [],
    producedFiles: [],
    completedAt: e.completedAt?.toISOString() ?? null,
    inputs: objectOf(e.inputs),
    resolvedVariables: objectOf(e.resolvedVariables),
    workflowTrace: {
      workflowSnapshot: { nodes: listOf(snapshot.nodes), edges: listOf(snapshot.edges) },
      nodeTraces: stepsOf(e).map(nodeTrace),
      durationMs,
      error,
    },
    warnings: [],
  };
}

/** Seed 001: `GET /workflows/executions/{id}/wait`, a long-poll over the same waiter as GraphQL's waitForExecution. */
export function registerSeed001(app: RestApp, deps: RestDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { timeoutMs } = c.req.valid('query');
    const r = await waitForExecution(
      deps.feed,
      deps.db,
      c.var.principal,
      id,
      timeoutMs / 1000,
      responseClosed(c.env.outgoing),
    );
    return c.json(workflowExecutionJson(r.execution), 200);
  });
}
