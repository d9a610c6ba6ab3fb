import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { executionJson } from '../domain/execution-view.js';
import { type ChangeStreamStart, type ExecutionChange, prepareChangeStream } from '../feed/changes.js';
import { restErrorBody } from '../http/rest-errors.js';
import { messageFrame, type SseStream } from '../http/sse.js';
import type { RestApp, RestDeps } from './context.js';
import { registerSseData, type SseEventDoc, sseContent } from './event-stream.js';
import { asQueryError, FILTER_QUERY, filterOfQuery } from './list.js';
import { ExecutionJson } from './response-json.js';
import { ErrorResponseSchema, errorResponses, SECURITY } from './schemas.js';

const DESCRIPTION = `Server-Sent Events (API.md §9): \`event: execution\`, \`id: <cursor>\`, data \`{cursor, execution}\`
(the execution in GraphQL's shape), after each change of an execution that matches the filter (the list's query
parameters). With a cursor (\`Last-Event-ID\`, which wins, or \`after\`): first every execution that changed after it,
once each in its current state, then live changes, with no gap and no duplicate between the two; a client that
resumes with the last cursor it processed misses no change, whatever the number of instances. Without one: live
changes only (take \`executionChangesCursor\` before a snapshot read to join the two). A \`:\` comment line is sent at
least every 15 s. \`event: error\` (\`{detail, error_code, correlation_id, timestamp}\`) ends a stream early (a consumer
that fell behind, or a cursor pruned during the replay); resume with the last cursor received.`;

const EVENTS: SseEventDoc[] = [
  {
    events: ['execution'],
    dataName: 'ExecutionChangeEventData',
    id: true,
    data: z.object({
      cursor: z.string().meta({ description: 'Also the event id: resume after this change' }),
      execution: ExecutionJson,
    }),
  },
  { events: ['error'], dataName: 'ErrorResponse', id: false, data: ErrorResponseSchema },
];

const route = createRoute({
  method: 'get',
  path: '/api/v1/executions/changes',
  operationId: 'streamExecutionChanges',
  tags: ['Waiting and streaming'],
  summary: 'Follow every change of the executions a filter matches (Server-Sent Events, resumable)',
  description: DESCRIPTION,
  security: SECURITY,
  request: {
    query: z.object({
      ...FILTER_QUERY,
      after: z
        .string()
        .optional()
        .meta({ description: 'Resume after this cursor (Last-Event-ID wins when both are sent)' }),
    }),
    headers: z.object({
      'last-event-id': z.string().optional().meta({
        description: 'The `id` of the last event processed (EventSource sends it when it reconnects)',
      }),
    }),
  },
  responses: {
    200: {
      description: 'A text/event-stream of execution changes',
      content: sseContent('One event of the stream', EVENTS),
    },
    ...errorResponses(422, 503),
  },
});

/** A change's message, built once however many subscribers are handed the same change (live batches share them). */
const frames = new WeakMap<ExecutionChange, Buffer>();
function frameOf(change: ExecutionChange): Buffer {
  let frame = frames.get(change);
  if (!frame) {
    frame = messageFrame({
      event: 'execution',
      id: change.cursor,
      data: JSON.stringify({ cursor: change.cursor, execution: executionJson(change.execution) }),
    });
    frames.set(change, frame);
  }
  return frame;
}

/**
 * Writes the stream's changes through the one SSE writer until it ends, each batch (or stretch of the replay) in one
 * write; the replay waits while the consumer lags.
 */
function follow(start: ChangeStreamStart, stream: SseStream): void {
  let gathered: Buffer[] = [];
  const cancel = start({
    item: (change: ExecutionChange) => {
      gathered.push(frameOf(change));
      return !stream.ended;
    },
    flush: () => {
      const ready = gathered;
      gathered = [];
      if (ready.length === 0) return !stream.ended;
      return stream.write(ready.length === 1 ? (ready[0] as Buffer) : Buffer.concat(ready));
    },
    pressure: () => stream.pressure(),
    fail: (error) => stream.fail(error),
    end: () => stream.end(),
  });
  stream.onEnd(cancel);
}

/** `GET /api/v1/executions/changes`: GraphQL's executionChanges as an EventSource-compatible stream. */
export function registerChanges(app: RestApp, deps: RestDeps): void {
  registerSseData(app, EVENTS);
  app.openapi(route, async (c) => {
    const { after, ...query } = c.req.valid('query');
    const resume = c.req.valid('header')['last-event-id'] || after || null;
    // Errors (a bad filter or cursor, capacity) are thrown here, before the stream starts, and answered as JSON.
    const start = await prepareChangeStream(deps.feed, deps.db, c.var.principal, {
      filter: filterOfQuery(query),
      after: resume,
    }).catch((err: unknown) => {
      throw asQueryError(err);
    });
    const { correlationId } = c.env;
    const stream = deps.sse.start(c.env.outgoing, {
      protocol: 'rest',
      errorFrame: (error) =>
        messageFrame({ event: 'error', data: JSON.stringify(restErrorBody(error, correlationId)) }),
    });
    follow(start, stream);
    return RESPONSE_ALREADY_SENT;
  });
}
