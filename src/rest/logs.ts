import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRoute } from '@hono/zod-openapi';
import { getPath } from 'hono/utils/url';
import { z } from 'zod';
import type { Principal } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';
import { getExecution } from '../domain/executions.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, issuesOf, waitTimeoutSeconds } from '../domain/inputs.js';
import { lastLogSequence, readLogs, textLine } from '../domain/logs.js';
import type { ExecutionEvent } from '../domain/types.js';
import { prepareEventStream, type StreamSink } from '../feed/stream.js';
import { writeReply } from '../http/reply.js';
import { restErrorReply } from '../http/rest-errors.js';
import { type SseStream, sharedFrames } from '../http/sse.js';
import type { RestApp, RestDeps } from './context.js';
import { errorResponses, queryNumber, SECURITY } from './schemas.js';

/** Lines per read of a plain (not followed) answer; it is streamed page by page, as the client reads. */
const PAGE = 2000;

const DESCRIPTION = `The execution's log text (API.md §8) as \`text/plain; charset=utf-8\`: each stored text with sequence
> \`after\`, as written (ANSI colours included), a newline added where one is missing; Vigil's own notices (e.g. that
output past the cap was dropped) are among them. Without \`follow\`, the texts stored now, and the header
\`Vigil-Last-Sequence\` is the sequence of the last one included (or \`after\` when none): resume with \`after\` set to it.
With \`follow=true\`, it keeps streaming new texts until the execution is terminal or the timeout; a client that needs
exact resumption while following uses seed 002's stream (\`event: log\`, \`id: <sequence>\`). A follower that falls far
behind is disconnected (resume with \`after\`); on shutdown the body ends.`;

/** The endpoint's query: the route validates it, and so does the follower served on node:http (`createLogFollower`). */
const logsQuery = z.object({
  after: queryNumber(z.int().min(0).default(0)).meta({
    description: 'Only texts with a greater sequence (0: all)',
  }),
  follow: z.enum(['true', 'false']).default('false').meta({ description: 'Keep streaming until terminal' }),
  timeout: queryNumber(waitTimeoutSeconds.default(DEFAULT_WAIT_TIMEOUT_SECONDS)).meta({
    description: 'With follow: seconds before the body ends (1..3600)',
  }),
});

const route = createRoute({
  method: 'get',
  path: '/api/v1/executions/{execution_id}/logs',
  operationId: 'getExecutionLogs',
  tags: ['Executions'],
  summary: "Read an execution's log output as plain text, or follow it live",
  description: DESCRIPTION,
  security: SECURITY,
  request: {
    params: z.object({ execution_id: z.string().meta({ description: 'Execution UUID' }) }),
    query: logsQuery,
  },
  responses: {
    200: {
      description: 'The text',
      headers: z.object({
        'Vigil-Last-Sequence': z.string().meta({
          description: 'Without follow: the sequence of the last text included, or `after` when none',
        }),
      }),
      content: { 'text/plain; charset=utf-8': { schema: z.string().meta({ description: 'The texts, as written' }) } },
    },
    ...errorResponses(404, 422, 503),
  },
});

/**
 * `GET /api/v1/executions/{id}/logs`: the log text stored now. The route documents `follow` and validates the whole
 * query, but a request with `follow=true` never reaches it: the server hands those to `createLogFollower` first.
 */
export function registerLogs(app: RestApp, deps: RestDeps): void {
  // The handler answers with a streamed body, not with Hono's typed c.text(); the route's types expect the latter
  // for text/plain, hence the one cast of the handler's reply.
  app.openapi(route, async (c): Promise<never> => {
    const { execution_id: id } = c.req.valid('param');
    const { after } = c.req.valid('query');
    await getExecution(deps.db, c.var.principal, id);
    const last = Math.max(after, await lastLogSequence(deps.db, id));
    let cursor = after;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const page = cursor < last ? await readLogs(deps.db, id, cursor, PAGE, last) : [];
        if (page.length === 0) return controller.close();
        cursor = page.at(-1)?.sequence ?? last;
        controller.enqueue(encoder.encode(page.map(textLine).join('')));
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'vigil-last-sequence': String(last),
    }) as never;
  });
}

/** A line's bytes, made once for every follower of the execution it goes to. */
const lineFrame = sharedFrames((e: ExecutionEvent) => Buffer.from(textLine(e)));

/** The followed body's sink: one object per follower (methods on the prototype), no closures over the request. */
class TextSink implements StreamSink<ExecutionEvent> {
  constructor(private readonly stream: SseStream) {}

  item(e: ExecutionEvent): boolean {
    return this.stream.write(lineFrame(e));
  }

  end(): void {
    this.stream.end();
  }

  pressure(): Promise<void> | null {
    return this.stream.pressure();
  }
}

/**
 * Follows an execution's log text on node's response, through the one stream writer (its limits, the client going
 * away, shutdown; a text body's keep-alive probes for heartbeats). Errors (404, 503, …) are thrown before the body
 * starts, for the caller to answer as JSON.
 */
async function followText(
  deps: RestDeps,
  res: ServerResponse,
  principal: Principal,
  id: string,
  after: number,
  timeout: number,
): Promise<void> {
  const start = await prepareEventStream(deps.feed, deps.db, principal, id, {
    after,
    timeoutSeconds: timeout,
    types: ['LOG'],
  });
  const stream = deps.sse.start(res, { protocol: 'text', errorFrame: noFrame });
  stream.onEnd(start(new TextSink(stream)));
}

const noFrame = () => Buffer.alloc(0);
const LOGS_PATH = /^\/api\/v1\/executions\/([^/]+)\/logs$/;

/** The id of a logs path, decoded as Hono decodes a path parameter (left as it is when it does not decode). */
function idOf(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Query parameters as Hono's validator hands them to zod: one value as a string, a repeated one as a list. */
function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

/**
 * The path as Hono routes it: percent-decoded, and with `.` and `..` segments resolved as @hono/node-server builds the
 * request's URL, so that the follower takes every request the route would match. Null for a path the adapter refuses.
 */
function routedPath(path: string): string | null {
  if (!/[%\\]|\/\./.test(path)) return path;
  if (path.includes('\\')) return null;
  try {
    return getPath(new Request(`http://localhost${path}`));
  } catch {
    return null;
  }
}

/**
 * `GET /api/v1/executions/{id}/logs?follow=true` (and HEAD, as Hono answers a GET route), the one way in for a
 * followed log: served on node:http directly rather than through Hono's adapter, which keeps a fetch-API request and
 * a close listener for each request as long as it is held (a follower is held for minutes, by the thousand). The
 * same steps as the route: the caller's key (401/403/429 as the middleware answers them), the route's query schema
 * (422 naming `query.…`), then the stream; every error as REST's JSON. Returns false, having done nothing, for any
 * other request (Hono serves it, a plain read of the logs among them).
 */
export function createLogFollower(deps: RestDeps) {
  return function follow(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    correlationId: string,
    remoteAddress: string,
  ): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const routed = routedPath(path);
    const match = routed === null ? null : LOGS_PATH.exec(routed);
    if (!match) return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const follows = params.getAll('follow');
    if (follows.length !== 1 || follows[0] !== 'true') return false;
    serve(deps, req, res, idOf(match[1] as string), params, remoteAddress).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      writeReply(res, restErrorReply(err, correlationId, deps.log));
    });
    return true;
  };
}

async function serve(
  deps: RestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  params: URLSearchParams,
  remoteAddress: string,
): Promise<void> {
  const principal = await deps.auth.authenticate((name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }, remoteAddress);
  const parsed = logsQuery.safeParse(queryOf(params));
  if (!parsed.success) {
    const issues = issuesOf(parsed.error, ['query']);
    throw new VigilError('VALIDATION_FAILED', issues[0]?.msg ?? 'Invalid request', { issues });
  }
  await followText(deps, res, principal, id, parsed.data.after, parsed.data.timeout);
}
