import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { getExecution } from '../domain/executions.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, waitTimeoutSeconds } from '../domain/inputs.js';
import { lastLogSequence, readLogs, textLine } from '../domain/logs.js';
import { prepareEventStream } from '../feed/stream.js';
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
    query: z.object({
      after: queryNumber(z.int().min(0).default(0)).meta({
        description: 'Only texts with a greater sequence (0: all)',
      }),
      follow: z.enum(['true', 'false']).default('false').meta({ description: 'Keep streaming until terminal' }),
      timeout: queryNumber(waitTimeoutSeconds.default(DEFAULT_WAIT_TIMEOUT_SECONDS)).meta({
        description: 'With follow: seconds before the body ends (1..3600)',
      }),
    }),
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

/** `GET /api/v1/executions/{id}/logs`: the log text, read once or followed. */
export function registerLogs(app: RestApp, deps: RestDeps): void {
  // The handler answers with a streamed body or on node's response itself, not with Hono's typed c.text(); the
  // route's types expect the latter for text/plain, hence the one cast of the handler's reply.
  app.openapi(route, async (c): Promise<never> => {
    const { execution_id: id } = c.req.valid('param');
    const { after, follow, timeout } = c.req.valid('query');
    const principal = c.var.principal;
    if (follow === 'true') {
      // Errors (404, 503, …) are thrown here, before the body starts, and answered as JSON.
      const start = await prepareEventStream(deps.feed, deps.db, principal, id, {
        after,
        timeoutSeconds: timeout,
        types: ['LOG'],
      });
      const stream = deps.sse.start(c.env.outgoing, { protocol: 'text', errorFrame: () => Buffer.alloc(0) });
      const cancel = start({
        item: (e) => stream.write(Buffer.from(textLine(e))),
        end: () => stream.end(),
        pressure: () => stream.pressure(),
      });
      stream.onEnd(cancel);
      return RESPONSE_ALREADY_SENT as never; // answered on node's response by the one stream writer
    }
    await getExecution(deps.db, principal, id);
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
