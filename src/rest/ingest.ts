import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { createOrReplayExecution } from '../domain/executions.js';
import { batchKeyInput, createExecutionInput, eventBatchInput } from '../domain/inputs.js';
import { recordEvents } from '../domain/record.js';
import { readJson } from './body.js';
import type { RestApp, RestDeps } from './context.js';
import { ExecutionJson, eventJson, executionJson, RecordResultJson } from './response-json.js';
import { bodyReadByHandler, errorResponses, jsonContent, SECURITY } from './schemas.js';

const CreateExecutionInput = createExecutionInput.meta({
  id: 'CreateExecutionInput',
  description: 'GraphQL\'s CreateExecutionInput as JSON; trigger omitted → {type: "manual"}',
});

const RecordEventsRequest = z
  .strictObject({
    events: eventBatchInput.meta({
      description: 'Exactly one of statusChanged, progress, step, message, tags per event; [] is a heartbeat',
    }),
    idempotencyKey: batchKeyInput.meta({
      description:
        "The worker's key for this batch (scoped to the execution): the same batch sent again under it answers " +
        'its first outcome and writes nothing; a different batch under it is 409 IDEMPOTENCY_CONFLICT',
    }),
  })
  .meta({ id: 'RecordExecutionEventsRequest' });

const create = createRoute({
  method: 'post',
  path: '/api/v1/executions',
  operationId: 'createExecution',
  tags: ['Workers'],
  summary: 'Create an execution',
  description:
    'Creates an execution in PENDING (GraphQL createExecution). With an idempotencyKey, a retry of the same ' +
    'request answers 200 with the execution the first one created; a different request under the key is 409.',
  security: SECURITY,
  request: { body: { content: { 'application/json': { schema: CreateExecutionInput } }, required: true } },
  responses: {
    201: jsonContent(ExecutionJson, 'Created'),
    200: jsonContent(ExecutionJson, 'An idempotent replay: the execution the first request created'),
    ...errorResponses(409, 413, 422),
  },
});

const record = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/events',
  operationId: 'recordExecutionEvents',
  tags: ['Workers'],
  summary: "Report an execution's progress, steps, messages, logs or status (a batch of events)",
  description:
    'Appends the events in order, all or nothing (GraphQL recordExecutionEvents); an empty list is a heartbeat. ' +
    'A batch for a terminal execution, or whose status change the state machine refuses, is 400 ' +
    'INVALID_STATUS_TRANSITION and writes nothing: this is how a worker learns its execution was cancelled.',
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'Execution UUID' }) }),
    body: { content: { 'application/json': { schema: RecordEventsRequest } }, required: true },
  },
  responses: {
    200: jsonContent(RecordResultJson, 'The execution after the batch, and the events it appended'),
    ...errorResponses(400, 404, 409, 413, 422),
  },
});

/** The ingest side for workers that do not speak GraphQL: the same domain calls as its mutations. */
export function registerIngest(app: RestApp, deps: RestDeps): void {
  app.openapi(bodyReadByHandler(app, create), async (c) => {
    const input = await readJson(c, CreateExecutionInput, { limit: deps.bodyLimit });
    const { execution, created } = await createOrReplayExecution(deps.domain, c.var.principal, input);
    return c.json(executionJson(execution), created ? 201 : 200);
  });

  app.openapi(bodyReadByHandler(app, record), async (c) => {
    const { events, idempotencyKey } = await readJson(c, RecordEventsRequest, { limit: deps.bodyLimit });
    const id = c.req.valid('param').execution_id;
    const r = await recordEvents(deps.domain, c.var.principal, id, events, idempotencyKey);
    return c.json({ execution: executionJson(r.execution), events: r.events.map(eventJson) }, 200);
  });
}
