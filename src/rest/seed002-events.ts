import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { getExecution } from '../domain/executions.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, waitTimeoutSeconds } from '../domain/inputs.js';
import { type ExecutionEvent, type ExecutionStatus, isTerminal } from '../domain/types.js';
import { afterInput, prepareEventStream, type StreamStart } from '../feed/stream.js';
import { restErrorBody } from '../http/rest-errors.js';
import { messageFrame, type SseMessage, type SseStream, sharedFrames } from '../http/sse.js';
import type { RestApp, RestDeps } from './context.js';
import { registerSseData, type SseEventDoc, sseContent } from './event-stream.js';
import { ErrorResponseSchema, errorResponses, queryNumber, SECURITY } from './schemas.js';
import { SEED003_STATUS, wordsOf } from './vocabulary.js';

const STREAM_DESCRIPTION = `Server-Sent Events, one per stored event of the execution, each with \`id: <sequence>\` and JSON \`data\`
(snake_case, always with \`execution_id\`, \`sequence\`, \`occurred_at\`):

| event | when | data |
|---|---|---|
| \`initiated\`, \`processing\`, \`completed\`, \`failed\` | a message report | \`message_id, adapter, status, error\` |
| \`status\` | a status change | \`status, previous_status\` (seed 003's words: running, interrupted, completed, failed, cancelled), \`error\` |
| \`progress\` | a progress report | \`step, percentage\` |
| \`step\` | a step (node) report | \`step_id, name, type, status, error, outputs, artifacts, row_counts, columns, skipped\` |
| \`tags\` | a worker changed the tags | \`set: [{key, value}], removed: [key]\` (what it gave) |
| \`log\` | a line of output | \`stream, level\` (debug, info, warn, error or null), \`text\` (as written); stream \`vigil\` is the server's own notice |
| \`error\` | the stream must end early (the consumer fell too far behind: 1,000 events queued, or \`VIGIL_SSE_MAX_UNSENT_BYTES\` written but unread) | \`{detail, error_code, correlation_id, timestamp}\` |

A \`:\` comment line is sent at least every 15 s. The stream first replays stored events after \`Last-Event-ID\`
(or \`last_event_id\`; all when neither is given), then streams live ones, each exactly once and in order, and ends
after the event that makes the execution terminal, or at the timeout. EventSource clients reconnect by themselves
with \`Last-Event-ID\`; once nothing more can come, the server answers that reconnect with 204 so they stop.`;

const base = {
  execution_id: z.string(),
  sequence: z.int().meta({ description: 'Also the event id' }),
  occurred_at: z.string().meta({ description: 'ISO 8601, UTC' }),
};
const nullable = z.string().nullable();
const anyJson = z.unknown();

/** The events of the stream and their data (what `sseMessage` writes). */
const EVENTS: SseEventDoc[] = [
  {
    events: ['initiated', 'processing', 'completed', 'failed'],
    dataName: 'MessageEventData',
    id: true,
    data: z.object({ ...base, message_id: z.string(), adapter: nullable, status: z.string(), error: anyJson }),
  },
  {
    events: ['status'],
    dataName: 'StatusEventData',
    id: true,
    data: z.object({
      ...base,
      status: z.enum(wordsOf(SEED003_STATUS)),
      previous_status: z.enum(wordsOf(SEED003_STATUS)),
      error: anyJson,
    }),
  },
  {
    events: ['progress'],
    dataName: 'ProgressEventData',
    id: true,
    data: z.object({ ...base, step: nullable, percentage: z.number() }),
  },
  {
    events: ['step'],
    dataName: 'StepEventData',
    id: true,
    data: z.object({
      ...base,
      step_id: z.string(),
      name: nullable,
      type: nullable,
      status: nullable,
      error: anyJson,
      outputs: anyJson,
      artifacts: anyJson,
      row_counts: anyJson,
      columns: anyJson,
      skipped: z.boolean(),
    }),
  },
  {
    events: ['tags'],
    dataName: 'TagsEventData',
    id: true,
    data: z.object({
      ...base,
      set: z.array(z.object({ key: z.string(), value: z.string() })),
      removed: z.array(z.string()),
    }),
  },
  {
    events: ['log'],
    dataName: 'LogEventData',
    id: true,
    data: z.object({ ...base, stream: z.string(), level: nullable, text: z.string() }),
  },
  { events: ['error'], dataName: 'ErrorResponse', id: false, data: ErrorResponseSchema },
];

const route = createRoute({
  method: 'get',
  path: '/api/v1/executions/{execution_id}/events',
  operationId: 'streamExecutionEvents',
  tags: ['Waiting and streaming'],
  summary: "Follow an execution's events live (Server-Sent Events, resumable with Last-Event-ID)",
  description: `${STREAM_DESCRIPTION}\n\nCompatibility note: the stream of seed 002.`,
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'Execution UUID to stream events for' }) }),
    query: z.object({
      timeout: queryNumber(waitTimeoutSeconds.default(DEFAULT_WAIT_TIMEOUT_SECONDS)).meta({
        description: 'Stream timeout in seconds',
      }),
      last_event_id: queryNumber(afterInput).meta({
        description: 'Resume after this sequence (for clients that cannot set Last-Event-ID); the header wins',
      }),
    }),
    headers: z.object({
      'last-event-id': queryNumber(afterInput).meta({
        description: 'Resume after this sequence: the `id` of the last event seen (EventSource sends it on reconnect)',
      }),
    }),
  },
  responses: {
    200: {
      description: 'Successful Response: a text/event-stream',
      content: sseContent('One event of the stream (the table above)', EVENTS),
    },
    204: { description: 'A resume after the terminal event: nothing more will come (EventSource stops reconnecting)' },
    ...errorResponses(404, 422, 503),
  },
});

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : null);
const orNull = (v: unknown) => v ?? null;

/** One stored event as an SSE message (the table in STREAM_DESCRIPTION). */
export function sseMessage(e: ExecutionEvent): SseMessage {
  const p = e.payload;
  const base = { execution_id: e.executionId, sequence: e.sequence, occurred_at: e.occurredAt.toISOString() };
  let event: string;
  let data: Record<string, unknown>;
  switch (e.type) {
    case 'MESSAGE':
      event = lower(p.status) ?? 'message';
      data = { message_id: p.messageId, adapter: orNull(p.adapter), status: lower(p.status), error: orNull(p.error) };
      break;
    case 'STATUS_CHANGED':
      event = 'status';
      data = {
        status: SEED003_STATUS[p.to as ExecutionStatus],
        previous_status: SEED003_STATUS[p.from as ExecutionStatus],
        error: orNull(p.error),
      };
      break;
    case 'PROGRESS':
      event = 'progress';
      data = { step: orNull(p.step), percentage: p.percentage };
      break;
    case 'STEP':
      event = 'step';
      data = {
        step_id: p.stepId,
        name: orNull(p.name),
        type: orNull(p.type),
        status: lower(p.status),
        error: orNull(p.error),
        outputs: orNull(p.outputs),
        artifacts: orNull(p.artifacts),
        row_counts: orNull(p.rowCounts),
        columns: orNull(p.columns),
        skipped: p.skipped ?? p.status === 'SKIPPED',
      };
      break;
    case 'TAGS_CHANGED':
      event = 'tags';
      data = { set: p.set ?? [], removed: p.removed ?? [] };
      break;
    case 'LOG':
      event = 'log';
      data = { stream: p.stream, level: lower(p.level), text: p.text };
      break;
  }
  return { event, id: String(e.sequence), data: JSON.stringify({ ...base, ...data }) };
}

/** An event's frame, made once for every subscriber of the execution it goes to. */
const eventFrame = sharedFrames((e: ExecutionEvent) => messageFrame(sseMessage(e)));

/**
 * Writes the stream's events through the one SSE writer until the stream ends (terminal event, timeout, shutdown,
 * revocation), the client hangs up (the stream is cancelled and its slot released) or it falls behind (ended with
 * `event: error` and the REST error body; it re-attaches with Last-Event-ID).
 */
function follow(start: StreamStart<ExecutionEvent>, stream: SseStream): void {
  const cancel = start({
    item: (e) => stream.write(eventFrame(e)),
    end: () => stream.end(),
    pressure: () => stream.pressure(),
  });
  stream.onEnd(cancel);
}

/** Seed 002: `GET /api/v1/executions/{execution_id}/events`, over the same stream as GraphQL's executionEvents. */
export function registerSeed002(app: RestApp, deps: RestDeps): void {
  registerSseData(app, EVENTS);
  app.openapi(route, async (c) => {
    const { execution_id: id } = c.req.valid('param');
    const { timeout, last_event_id } = c.req.valid('query');
    const after = c.req.valid('header')['last-event-id'] ?? last_event_id ?? null;
    const principal = c.var.principal;
    if (after !== null) {
      const execution = await getExecution(deps.db, principal, id);
      if (isTerminal(execution.status) && after >= execution.lastSequence) return c.body(null, 204);
    }
    // Errors (404, 503, …) are thrown here, before the stream starts, and answered as JSON.
    const start = await prepareEventStream(deps.feed, deps.db, principal, id, { after, timeoutSeconds: timeout });
    const { correlationId } = c.env;
    const stream = deps.sse.start(c.env.outgoing, {
      protocol: 'rest',
      errorFrame: (error) =>
        messageFrame({ event: 'error', data: JSON.stringify(restErrorBody(error, correlationId)) }),
    });
    follow(start, stream);
    return RESPONSE_ALREADY_SENT; // answered on node's response by the SSE writer
  });
}
