import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { VigilError } from '../domain/errors.js';
import { executionJson } from '../domain/execution-view.js';
import { waitManyInput } from '../domain/wait-many.js';
import { responseClosed } from '../feed/wait.js';
import { waitForExecutions } from '../feed/wait-many.js';
import { readJson } from './body.js';
import type { RestApp, RestDeps } from './context.js';
import { GraphQLExecution } from './list.js';
import { bodyReadByHandler, errorResponses, jsonContent, SECURITY } from './schemas.js';

const WaitManyRequest = waitManyInput.meta({
  id: 'ExecutionsWaitRequest',
  description:
    'Exactly one of ids (1–1,000, no duplicates) and filter (GraphQL ExecutionFilter, tags as [{key, value}]; at ' +
    'most 1,000 matches). mode ALL (default) or ANY; expectedCount (ALL with a filter, default 1); timeout in ' +
    'seconds, 1–3600, default 300',
});

const WaitManyResponse = z
  .object({
    completed: z.boolean().meta({ description: "Whether the mode's condition holds (false: the timeout came first)" }),
    executions: z.array(GraphQLExecution).meta({ description: 'In the order of ids, or newest first for a filter' }),
    durationMs: z.number().meta({ description: 'From receiving the request to answering' }),
    message: z.string().nullable(),
  })
  .meta({ id: 'ExecutionsWaitResult' });

const route = createRoute({
  method: 'post',
  path: '/api/v1/executions/wait',
  operationId: 'waitForExecutions',
  tags: ['Waiting and streaming'],
  summary: 'Wait until all (or any) of several executions end',
  description:
    'GraphQL `waitForExecutions` over REST (API.md §9): answers once every execution is terminal (ALL), or the ' +
    'first one is (ANY), or at the timeout with `completed: false` (not an error). With a filter, executions ' +
    'created while it waits count too. Any unknown id is 404 and nothing waits.',
  security: SECURITY,
  request: { body: { content: { 'application/json': { schema: WaitManyRequest } }, required: true } },
  responses: {
    200: jsonContent(WaitManyResponse, 'The executions when the wait ended'),
    ...errorResponses(404, 413, 422, 503),
  },
});

/** A refusal the domain names by argument (`filter`) names the body's field here, as every 422 of REST does. */
function inBody(err: unknown): unknown {
  if (!(err instanceof VigilError) || !err.issues) return err;
  const issues = err.issues.map((i) => (i.loc[0] === 'body' ? i : { ...i, loc: ['body', ...i.loc] }));
  return new VigilError(err.code, err.message, { issues, retryAfter: err.retryAfter });
}

/** `POST /api/v1/executions/wait`: the same waiter as GraphQL's waitForExecutions, the same answer. */
export function registerWaitMany(app: RestApp, deps: RestDeps): void {
  app.openapi(bodyReadByHandler(app, route), async (c) => {
    const input = await readJson(c, WaitManyRequest, { limit: deps.bodyLimit });
    const r = await waitForExecutions(
      deps.feed,
      deps.db,
      c.var.principal,
      input,
      responseClosed(c.env.outgoing), // a client that hangs up releases its wait
    ).catch((err: unknown) => {
      throw inBody(err);
    });
    return c.json(
      {
        completed: r.completed,
        executions: r.executions.map(executionJson),
        durationMs: r.durationMs,
        message: r.message,
      },
      200,
    );
  });
}
