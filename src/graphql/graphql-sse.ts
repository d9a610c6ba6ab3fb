import { STATUS_CODES } from 'node:http';
import { type DocumentNode, type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { RequestParams, Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import type { Authenticator } from '../access/authenticate.js';
import type { Principal } from '../domain/access.js';
import {
  type ErrorLogger,
  graphqlErrorReply,
  graphqlErrorsBody,
  toClientError,
  withoutHttp,
} from '../http/graphql-errors.js';
import { type ErrorReply, replyResponse } from '../http/reply.js';
import { utf8Text } from './http.js';
import { assertTrusted, resolveBody, type TrustedDocuments } from './persisted.js';
import { type StreamTokenLimits, StreamTokens } from './stream-tokens.js';

interface StreamContext {
  correlationId?: string;
  remoteAddress?: string;
  principal?: Principal;
}

export interface GraphQLSseOptions {
  endpoint: string;
  auth: Authenticator;
  log: ErrorLogger;
  trusted: TrustedDocuments;
  /** Single-connection reservations (PUT): how long one waits to be opened, how many per key. */
  tokens: StreamTokenLimits;
}

/** graphql-sse's own response: a tuple `[body, init]`. */
function tupleOf(reply: ErrorReply): SseResponse {
  return [reply.body, { status: reply.status, statusText: STATUS_CODES[reply.status] ?? '', headers: reply.headers }];
}

/**
 * graphql-sse at `endpoint`, both modes, on yoga's envelop (its plugins, armor's limits, our error mapping) — the
 * library's own handler in place of its yoga plugin (`@graphql-yoga/plugin-graphql-sse`, no longer a dependency), with the edges that plugin left open closed:
 * - every request (PUT reserving a stream, GET/POST on it, distinct-mode POST) is authenticated first, and an
 *   access failure is the contract's 401/403/422/429 with its code, never a 500 (issue 14, item 6); the principal
 *   goes on to the context, so a request is authenticated (and rate-limited) once;
 * - a document that does not parse or validate, or whose variables do not coerce, is a GraphQL result with
 *   VALIDATION_FAILED in the stream (graphql-sse's own rule for event streams), not "Unable to detect operation
 *   AST" (the plugin handed the library an errors object it does not recognize as a result);
 * - the `http` extension (yoga's status hint) is not written into frames;
 * - anything unexpected is INTERNAL, logged once, with no stack in the body.
 */
export function useGraphQLSse(options: GraphQLSseOptions): YogaPlugin<Record<string, unknown>, StreamContext> {
  const contexts = new WeakMap<Request, StreamContext>();
  let handler: (request: Request) => Promise<Response>;
  const tokens = new StreamTokens(options.tokens, options.endpoint, (err) =>
    options.log.error({ err }, 'closing an expired stream reservation failed'),
  );

  /** Frames carry what yoga would write: errors without the `http` extension yoga reads for the status. */
  const frameOf = (result: ExecutionResult): ExecutionResult | undefined => {
    if (!result.errors?.some((e) => e.extensions?.http)) return undefined;
    return { ...result, errors: result.errors.map(withoutHttp) } as unknown as ExecutionResult;
  };

  /**
   * A document that does not parse or validate: graphql-sse's own rule — in the event stream when the request
   * accepts one (distinct mode), else 400 with the errors (single-connection mode's POST).
   */
  const requestErrors = (
    errors: readonly unknown[],
    correlationId: string | undefined,
    accept: string | null | undefined,
  ): ExecutionResult | SseResponse => {
    const mapped = errors.map((e) => toClientError(e, correlationId, options.log));
    // A `data` key, undefined so it is not written: graphql-sse sends only results that have one.
    if (accept === 'text/event-stream') return { data: undefined, errors: mapped };
    const body = graphqlErrorsBody(mapped);
    const headers = { 'content-type': 'application/json; charset=utf-8' };
    return [body, { status: 400, statusText: 'Bad Request', headers }];
  };
  return {
    onYogaInit({ yoga }) {
      handler = createHandler(
        {
          authenticate(req) {
            const context = contexts.get(req.raw) ?? {};
            try {
              return tokens.token(req, context);
            } catch (err) {
              return tupleOf(graphqlErrorReply(err, context.correlationId ?? '', options.log));
            }
          },
          onNext: (_ctx, _req, result) => frameOf(result as ExecutionResult),
          onSubscribe(req, params: RequestParams) {
            const context = contexts.get(req.raw) ?? {};
            const { correlationId } = context;
            try {
              const enveloped = yoga.getEnveloped({ ...context, request: req.raw, params });
              let document: DocumentNode;
              try {
                assertTrusted(params.query, options.trusted); // ids were resolved before the library read the body
                document = enveloped.parse(params.query);
                const invalid = enveloped.validate(enveloped.schema, document) as readonly GraphQLError[];
                if (invalid.length > 0) return requestErrors(invalid, correlationId, req.headers.get('accept'));
              } catch (err) {
                // a syntax error, or a limit of graphql-armor
                return requestErrors([err], correlationId, req.headers.get('accept'));
              }
              const operation = getOperationAST(document, params.operationName);
              return Promise.resolve(enveloped.contextFactory()).then((contextValue) => {
                const args = {
                  schema: enveloped.schema,
                  document,
                  contextValue,
                  variableValues: params.variables,
                  operationName: params.operationName,
                };
                return operation?.operation === 'subscription' ? enveloped.subscribe(args) : enveloped.execute(args);
              });
            } catch (err) {
              return tupleOf(graphqlErrorReply(err, correlationId ?? '', options.log));
            }
          },
        },
        yoga.fetchAPI,
      );
      tokens.attach(handler);
    },
    onRequest({ request, endResponse, serverContext }) {
      const [path] = request.url.split('?');
      if (!path?.endsWith(options.endpoint)) return;
      const correlationId = serverContext.correlationId ?? '';
      const answer = async (): Promise<Response> => {
        try {
          const principal = await options.auth.authenticate(
            (name) => request.headers.get(name),
            serverContext.remoteAddress,
          );
          const decoded = await withUtf8Body(request, options.trusted);
          contexts.set(decoded, { ...serverContext, principal });
          return await handler(decoded);
        } catch (err) {
          return replyResponse(graphqlErrorReply(err, correlationId, options.log));
        }
      };
      return answer().then(endResponse);
    },
  };
}

/**
 * The request with its body checked as UTF-8 (the only encoding of GraphQL over HTTP) and a persisted document's id
 * replaced by its text (persisted.ts), which graphql-sse requires.
 */
async function withUtf8Body(request: Request, trusted: TrustedDocuments): Promise<Request> {
  if (request.method !== 'POST' || !request.body) return request;
  const text = resolveBody(utf8Text(new Uint8Array(await request.arrayBuffer())), trusted);
  return new Request(request.url, { method: 'POST', headers: request.headers, body: text, signal: request.signal });
}
