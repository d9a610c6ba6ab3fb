import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { SseProtocol, SseWriter } from '../http/sse.js';
import { createFastPath, type LeanPathDeps, type MediaType, negotiate } from './fast.js';
import { answerViaYoga, isJson, paramsOf, readBody } from './http.js';
import { leanBody, type TrustedDocuments } from './persisted.js';
import { createSsePath, leanFieldOf } from './sse.js';
import { createEnvelopedSse } from './subscribe.js';

/** Which lean path a request may take, from its method and headers alone (nothing read yet). */
type Route = { kind: 'query'; media: MediaType } | { kind: 'sse'; protocol: SseProtocol } | null;

function routeOf(req: IncomingMessage, path: string): Route {
  if (req.method !== 'POST' || !isJson(req.headers['content-type'])) return null;
  const accept = req.headers.accept;
  if (path === '/graphql/stream') {
    // graphql-sse's distinct-connections mode; single-connection mode (a stream token) stays on the library.
    const distinct = accept === 'text/event-stream' && !req.headers['x-graphql-event-stream-token'];
    return distinct && !(req.url ?? '').includes('?') ? { kind: 'sse', protocol: 'graphql-sse' } : null;
  }
  if (path !== '/graphql') return null;
  if (accept === 'text/event-stream') return (req.url ?? '').includes('?') ? null : { kind: 'sse', protocol: 'yoga' };
  const media = negotiate(accept);
  return media ? { kind: 'query', media } : null;
}

export interface GraphQLEdgeDeps extends LeanPathDeps {
  schema: GraphQLSchema;
  sse: SseWriter;
  /** `VIGIL_FAST_GRAPHQL`: off, the libraries answer everything (the reference the differential tests compare with). */
  lean: boolean;
  trusted: TrustedDocuments;
}

/**
 * `/graphql` and `/graphql/stream`: the one place that decides, per request, who answers. With the lean paths on, a
 * POST with a JSON body is read once and its document resolved once (`documents.ts`); then a compiled query or
 * mutation goes to the fast path (`fast.ts`), an `executionEvents` / `executionUpdated` subscription over SSE to the
 * lean SSE path (`sse.ts`), any other subscription over SSE through yoga's envelop to the same SSE writer
 * (`subscribe.ts`), and everything else — including whatever those decline before writing a byte — to the one
 * fallback, yoga (which also runs graphql-sse) with the body already read. Requests no lean path can take (GET,
 * other media types, single-connection mode) go to yoga unread.
 */
export function createGraphQLEdge(deps: GraphQLEdgeDeps) {
  const fast = createFastPath(deps);
  const leanSse = createSsePath(deps);
  const envelopedSse = createEnvelopedSse(deps);

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    correlationId: string,
    remoteAddress: string,
  ): Promise<void> {
    const serverContext = { correlationId, remoteAddress };
    const route = deps.lean ? routeOf(req, path) : null;
    if (!route) return void (await deps.yoga.handle(req, res, serverContext));
    const body = await readBody(req);
    // a persisted document's id becomes its text here (null: yoga answers the refusal), before the usual flow
    const resolved = leanBody(body, deps.trusted);
    const params = resolved === null ? null : paramsOf(resolved);
    const prepared = params && deps.documents(params.query, params.operationName);
    let answered = false;
    if (params && prepared) {
      if (route.kind === 'query' && prepared.compiled) {
        const mutation = prepared.operation.operation === 'mutation';
        answered = await fast(req, res, params, prepared.compiled, route.media, correlationId, remoteAddress, mutation);
      } else if (route.kind === 'sse' && prepared.operation.operation === 'subscription') {
        const field = leanFieldOf(prepared);
        answered = field
          ? await leanSse.handle(req, res, params, prepared, field, route.protocol, correlationId, remoteAddress)
          : await envelopedSse(req, res, params, prepared, route.protocol, correlationId, remoteAddress);
      }
    }
    if (!answered) await answerViaYoga(deps.yoga, req, res, body, serverContext);
  }

  return { handle, stats: leanSse.stats };
}
