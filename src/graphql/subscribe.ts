import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { VigilError } from '../domain/errors.js';
import { type ErrorLogger, graphqlStreamResult } from '../http/graphql-errors.js';
import { nextFrame, type SseProtocol, type SseStream, type SseWriter } from '../http/sse.js';
import type { PreparedDocument } from './documents.js';
import type { LeanPathDeps } from './fast.js';
import { type GraphQLParams, headerOf } from './http.js';
import { errorFrameOf } from './sse.js';

/** A result of yoga's envelop (errors already mapped and masked there) as yoga frames it. */
function frameOf(result: ExecutionResult): Buffer {
  return nextFrame(graphqlStreamResult(result));
}

/**
 * Any other subscription over SSE (yoga's framing at /graphql, graphql-sse distinct mode at /graphql/stream):
 * subscribed through yoga's envelop, so its plugins (error mapping, armor) apply as they do in yoga, and written by
 * the one SSE writer (heartbeat, backpressure, shutdown). Returns false, having written nothing, when the request
 * fails before a stream starts (access, variables, a refused subscribe): yoga or graphql-sse answer that.
 */
export function createEnvelopedSse(deps: LeanPathDeps & { sse: SseWriter }) {
  return async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: GraphQLParams,
    prepared: PreparedDocument,
    protocol: SseProtocol,
    correlationId: string,
    remoteAddress: string,
  ): Promise<boolean> {
    let results: AsyncIterable<ExecutionResult>;
    try {
      const principal = await deps.auth.authenticate((name) => headerOf(req, name), remoteAddress);
      // What yoga's context takes the subscription's cancellation from: the client going away.
      const gone = new AbortController();
      if (res.destroyed) gone.abort();
      else res.once('close', () => !res.writableFinished && gone.abort());
      const request = new Request(`http://localhost${req.url ?? '/graphql'}`, { method: 'POST', signal: gone.signal });
      const enveloped = deps.yoga.getEnveloped({ request, params, correlationId, remoteAddress, principal });
      const result = await enveloped.subscribe({
        schema: enveloped.schema,
        document: prepared.document,
        contextValue: await enveloped.contextFactory(),
        variableValues: params.variables,
        operationName: params.operationName,
      });
      if (!result || !(Symbol.asyncIterator in result)) return false;
      results = result as AsyncIterable<ExecutionResult>;
    } catch {
      return false;
    }
    const stream = deps.sse.start(res, { protocol, errorFrame: errorFrameOf(correlationId, deps.log) });
    void pipe(results, stream, deps.log, correlationId);
    return true;
  };
}

/** Writes results until the subscription completes, the stream ends (client gone, backpressure, shutdown) or it fails. */
async function pipe(
  results: AsyncIterable<ExecutionResult>,
  stream: SseStream,
  log: ErrorLogger,
  correlationId: string,
): Promise<void> {
  const iterator = results[Symbol.asyncIterator]();
  stream.onEnd(() => void iterator.return?.()?.catch(() => {}));
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || !stream.write(frameOf(next.value))) break;
    }
    stream.end();
  } catch (err) {
    log.error({ err, correlationId }, 'unexpected error in a subscription stream');
    stream.fail(new VigilError('INTERNAL', 'Unexpected error.'));
  }
}
