import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { getExecution } from '../domain/executions.js';
import { durationMsOf, type Execution, errorOf, statsOf, stepsOf } from '../domain/types.js';
import type { RestApp, RestDeps } from './context.js';
import { objectOf, progressJson } from './response-json.js';
import { errorResponses, jsonContent, SECURITY } from './schemas.js';
import { SEED004_STATUS, wordsOf } from './vocabulary.js';

const INCLUDE = /^\s*((artifacts|metrics)\s*(,\s*(artifacts|metrics)\s*)*)?$/;

const Metrics = z
  .object({
    durationMs: z.int().nullable().meta({ description: 'completedAt − (startedAt ?? createdAt); null until terminal' }),
    totalMessages: z.int(),
    completedMessages: z.int(),
    failedMessages: z.int(),
    inProgressMessages: z.int(),
    successRate: z.number().meta({ description: 'completed / (completed + failed); 0 when none' }),
    totalSteps: z.int(),
    completedSteps: z.int(),
    failedSteps: z.int(),
    skippedSteps: z.int(),
    cancelledSteps: z.int().meta({ description: 'Steps still open when the execution ended' }),
  })
  .meta({ id: 'ExecutionMetrics', description: 'From the message counters and the reported steps' });

const FlowExecution = z
  .object({
    id: z.string().meta({ description: 'Execution identifier (a UUID)' }),
    flowId: z.string().meta({ description: 'Flow that was executed (workflowId)' }),
    version: z.string().nullable().meta({ description: 'Flow version used (workflowVersion)' }),
    status: z.enum(wordsOf(SEED004_STATUS)),
    progress: z
      .object({ step: z.string().nullable(), percentage: z.number().min(0).max(100) })
      .nullable()
      .meta({ description: 'The last progress a worker reported; null before any' }),
    createdAt: z.string().meta({ description: 'ISO 8601, UTC' }),
    completedAt: z.string().nullable(),
    output: z.unknown().meta({ description: 'Extracted data (when completed); null when none was reported' }),
    error: z
      .object({ code: z.string(), message: z.string(), step: z.string().nullable() })
      .nullable()
      .meta({ description: 'Error details (when failed)' }),
    metrics: Metrics.optional().meta({ description: 'Only with include=metrics' }),
    artifacts: z.record(z.string(), z.unknown()).optional().meta({
      description: 'Only with include=artifacts: the artifacts each step reported, by step id',
    }),
    metadata: z.record(z.string(), z.unknown()).meta({ description: 'Custom metadata from request ({} when none)' }),
  })
  .meta({ id: 'FlowExecution' });

const route = createRoute({
  method: 'get',
  path: '/api/v1/executions/{execution_id}',
  operationId: 'getExecution',
  tags: ['Executions'],
  summary: 'Get an execution: status, progress, output, error, and optionally metrics and artifacts',
  description:
    'Poll an execution. For production, webhooks are more efficient than polling.\n\n' +
    'Compatibility note: the shape of seed 004, which names the path parameter `executionId`: the same URL as ' +
    "seed 003's `PATCH`, so both are one path here.",
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'The execution identifier' }) }),
    query: z.object({
      include: z
        .string()
        .regex(INCLUDE, 'must be a comma-separated list of: artifacts, metrics')
        .optional()
        .meta({ description: 'Additional data to include: artifacts, metrics (comma-separated)' }),
    }),
  },
  responses: {
    200: jsonContent(FlowExecution, 'The execution'),
    ...errorResponses(404, 422),
  },
});

function metricsOf(e: Execution): z.infer<typeof Metrics> {
  const steps = stepsOf(e);
  const count = (status: string) => steps.filter((s) => s.status === status).length;
  return {
    durationMs: durationMsOf(e),
    ...statsOf(e),
    totalSteps: steps.length,
    completedSteps: count('COMPLETED'),
    failedSteps: count('FAILED'),
    skippedSteps: count('SKIPPED'),
    cancelledSteps: count('CANCELLED'),
  };
}

function artifactsOf(e: Execution): Record<string, unknown> {
  return Object.fromEntries(stepsOf(e).flatMap((s) => (s.artifacts == null ? [] : [[s.id, s.artifacts]])));
}

function flowExecutionJson(e: Execution, include: ReadonlySet<string>): z.infer<typeof FlowExecution> {
  const error = errorOf(e);
  return {
    id: e.id,
    flowId: e.workflowId,
    version: e.workflowVersion,
    status: SEED004_STATUS[e.status],
    progress: progressJson(e),
    createdAt: e.createdAt.toISOString(),
    completedAt: e.completedAt?.toISOString() ?? null,
    output: e.output ?? null,
    error: error ? { code: error.code, message: error.message, step: error.step ?? null } : null,
    ...(include.has('metrics') && { metrics: metricsOf(e) }),
    ...(include.has('artifacts') && { artifacts: artifactsOf(e) }),
    metadata: objectOf(e.metadata),
  };
}

/** Seed 004: `GET /api/v1/executions/{executionId}?include=artifacts,metrics` (one path with seed 003's PATCH). */
export function registerSeed004(app: RestApp, deps: RestDeps): void {
  app.openapi(route, async (c) => {
    const { include } = c.req.valid('query');
    const execution = await getExecution(deps.db, c.var.principal, c.req.valid('param').execution_id);
    const wanted = new Set((include ?? '').split(',').map((s) => s.trim()));
    return c.json(flowExecutionJson(execution, wanted), 200);
  });
}
