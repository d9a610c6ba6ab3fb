import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { setExecutionPinned } from '../domain/pin.js';
import type { RestApp, RestDeps } from './context.js';
import { ExecutionJson, executionJson } from './response-json.js';
import { errorResponses, jsonContent, SECURITY } from './schemas.js';

const params = z.object({ execution_id: z.string().meta({ description: 'Execution UUID' }) });

const pinRoute = (method: 'put' | 'delete') =>
  createRoute({
    method,
    path: '/api/v1/executions/{execution_id}/pin',
    operationId: method === 'put' ? 'pinExecution' : 'unpinExecution',
    tags: ['Executions'],
    summary: method === 'put' ? 'Pin an execution' : 'Unpin an execution',
    description:
      method === 'put'
        ? 'Keeps the execution, and every member of its tree, from retention (API.md §10; GraphQL ' +
          'setExecutionPinned(pinned: true)); needs executions:write. Pinning a pinned execution is a success.'
        : 'Lets retention delete the execution again once its tree is due (GraphQL setExecutionPinned(pinned: ' +
          'false)); needs executions:write.',
    security: SECURITY,
    request: { params },
    responses: { 200: jsonContent(ExecutionJson, 'The execution, pinned or not'), ...errorResponses(404, 422) },
  });

/** `PUT` and `DELETE /api/v1/executions/{id}/pin`: the same domain call as GraphQL's setExecutionPinned. */
export function registerPin(app: RestApp, deps: RestDeps): void {
  for (const [method, pinned] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app.openapi(pinRoute(method), async (c) => {
      const execution = await setExecutionPinned(
        deps.domain,
        c.var.principal,
        c.req.valid('param').execution_id,
        pinned,
      );
      return c.json(executionJson(execution), 200);
    });
  }
}
