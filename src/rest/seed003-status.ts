import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorInfoInput } from '../domain/inputs.js';
import { updateStatusByClient } from '../domain/transitions.js';
import { CLIENT_TARGETS, type ClientTarget } from '../domain/types.js';
import { readJson } from './body.js';
import type { RestApp, RestDeps } from './context.js';
import { bodyReadByHandler, errorResponses, jsonContent, SECURITY } from './schemas.js';
import { SEED003_STATUS, wordsOf } from './vocabulary.js';

const TARGETS = CLIENT_TARGETS.map((t) => t.toLowerCase()) as ['cancelled', 'failed', 'completed'];

const StatusUpdateRequest = z
  .object({
    status: z.enum(TARGETS).meta({ description: "Target status ('cancelled', 'failed', or 'completed')" }),
    error_info: errorInfoInput.nullish().meta({
      description: "For 'failed': becomes the execution's error {code ?? MARKED_FAILED, message, details: error_info}",
    }),
  })
  .meta({ id: 'ExecutionStatusUpdateRequest' });

const StatusWord = z.enum(wordsOf(SEED003_STATUS));

const StatusUpdateResponse = z
  .object({
    success: z.boolean().meta({ description: 'Whether update succeeded' }),
    execution_id: z.uuid(),
    previous_status: StatusWord.meta({ description: 'Status before update' }),
    current_status: StatusWord.meta({ description: 'Status after update' }),
    message: z.string().meta({ description: 'Status message' }),
  })
  .meta({ id: 'ExecutionStatusUpdateResponse' });

const route = createRoute({
  method: 'patch',
  path: '/api/v1/executions/{execution_id}',
  operationId: 'updateExecutionStatus',
  tags: ['Executions'],
  summary: 'Cancel an execution, or mark a stuck one failed or completed',
  description:
    "'cancelled' (needs executions:write) cancels a running execution; 'failed' and 'completed' (need " +
    'executions:admin) clean up executions stuck in a non-terminal status. Allowed only from a non-terminal ' +
    'status; the same terminal status again is an idempotent success (previous = current); any other change of a ' +
    'terminal status is 400 INVALID_STATUS_TRANSITION.\n\n' +
    'Compatibility note: the shape of seed 003 (snake_case, its status words).',
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'Execution UUID' }) }),
    body: { content: { 'application/json': { schema: StatusUpdateRequest } }, required: true },
  },
  responses: {
    200: jsonContent(StatusUpdateResponse, 'Successful Response'),
    ...errorResponses(400, 404, 413, 422),
  },
});

/** Seed 003: `PATCH /api/v1/executions/{execution_id}`, over the same transition as GraphQL's updateExecutionStatus. */
export function registerSeed003(app: RestApp, deps: RestDeps): void {
  app.openapi(bodyReadByHandler(app, route), async (c) => {
    const body = await readJson(c, StatusUpdateRequest, { limit: deps.bodyLimit });
    const r = await updateStatusByClient(
      deps.domain,
      c.var.principal,
      c.req.valid('param').execution_id,
      body.status.toUpperCase() as ClientTarget,
      body.error_info,
    );
    return c.json(
      {
        success: r.success,
        execution_id: r.execution.id,
        previous_status: SEED003_STATUS[r.previousStatus],
        current_status: SEED003_STATUS[r.currentStatus],
        message: r.message,
      },
      200,
    );
  });
}
