import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, waitTimeoutSeconds } from '../domain/inputs.js';
import { type Execution, statsOf } from '../domain/types.js';
import { responseClosed, waitForExecution } from '../feed/wait.js';
import { readJson } from './body.js';
import type { RestApp, RestDeps } from './context.js';
import { bodyReadByHandler, errorResponses, jsonContent, SECURITY } from './schemas.js';

const WaitRequest = z
  .object({
    timeout: waitTimeoutSeconds
      .default(DEFAULT_WAIT_TIMEOUT_SECONDS)
      .meta({ description: 'Maximum time to wait in seconds (1-3600)' }),
  })
  .meta({
    id: 'ExecutionWaitRequest',
    description: 'Request to wait for execution completion. The body may be omitted.',
  });

const StatsResponse = z
  .object({
    execution_id: z.uuid(),
    total_messages: z.int().meta({ description: 'Total messages processed' }),
    completed_messages: z.int().meta({ description: 'Successfully completed messages' }),
    failed_messages: z.int().meta({ description: 'Failed messages' }),
    in_progress_messages: z.int().meta({ description: 'Messages still processing' }),
    success_rate: z.number().meta({ description: 'completed / (completed + failed); 0 when none' }),
  })
  .meta({ id: 'ExecutionStatsResponse', description: 'Execution statistics (derived from lineage)' });

const WaitResponse = z
  .object({
    completed: z.boolean().meta({ description: 'Whether execution completed (vs timeout)' }),
    execution_id: z.uuid(),
    duration_ms: z.number().meta({ description: 'How long the wait took in milliseconds' }),
    message: z.string().nullable(),
    stats: StatsResponse.nullable(),
  })
  .meta({ id: 'ExecutionWaitResponse' });

const route = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/wait',
  operationId: 'waitForExecution',
  tags: ['Waiting and streaming'],
  summary: 'Wait until an execution ends, then get its message statistics',
  description:
    'Blocks until the execution is terminal (at once when it already is), or until the timeout, then answers ' +
    '`completed: false` with the current statistics; a timeout is not an error. For CLI tools and scripts; ' +
    'dashboards should stream `GET /api/v1/executions/{execution_id}/events` instead.\n\n' +
    'Compatibility note: the shape of seed 000.',
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'Execution UUID to wait for' }) }),
    body: { content: { 'application/json': { schema: WaitRequest } }, required: false },
  },
  responses: {
    200: jsonContent(WaitResponse, 'Successful Response'),
    ...errorResponses(404, 413, 422, 503),
  },
});

export function statsJson(e: Execution): z.infer<typeof StatsResponse> {
  const s = statsOf(e);
  return {
    execution_id: e.id,
    total_messages: s.totalMessages,
    completed_messages: s.completedMessages,
    failed_messages: s.failedMessages,
    in_progress_messages: s.inProgressMessages,
    success_rate: s.successRate,
  };
}

/** Seed 000: `POST /api/v1/executions/{execution_id}/wait`, over the same waiter as GraphQL's waitForExecution. */
export function registerSeed000(app: RestApp, deps: RestDeps): void {
  app.openapi(bodyReadByHandler(app, route), async (c) => {
    const { timeout } = await readJson(c, WaitRequest, { limit: deps.bodyLimit, optional: true });
    const r = await waitForExecution(
      deps.feed,
      deps.db,
      c.var.principal,
      c.req.valid('param').execution_id,
      timeout,
      responseClosed(c.env.outgoing), // a client that hangs up releases its wait
    );
    return c.json(
      {
        completed: r.completed,
        execution_id: r.execution.id,
        duration_ms: r.durationMs,
        message: r.message,
        stats: statsJson(r.execution),
      },
      200,
    );
  });
}
