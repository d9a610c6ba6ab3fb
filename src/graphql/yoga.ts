import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../access/authenticate.js';
import type { Db } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import type { DomainContext } from '../domain/context.js';
import type { ChangeFeed } from '../feed/feed.js';
import { type ErrorLogger, isClientError, toClientError, wasLogged } from '../http/graphql-errors.js';
import { useDocumentLimits } from './armor.js';
import type { GraphQLContext } from './context.js';
import { useClientErrors, useRequestErrors } from './error-plugins.js';
import { GRAPHIQL_OPTIONS, withApiKey } from './graphiql.js';
import { useGraphQLSse } from './graphql-sse.js';
import { type TrustedDocuments, useTrustedDocuments } from './persisted.js';
import { useErrorResponses } from './responses.js';
import { schema } from './schema.js';
import type { StreamTokenLimits } from './stream-tokens.js';

/** What the HTTP layer hands yoga with each request. */
export interface ServerContext {
  correlationId: string;
  remoteAddress: string;
  /** Set when the edge has already authenticated the request (graphql-sse does, before the library runs). */
  principal?: Principal;
}

export interface YogaDeps {
  db: Db;
  domain: DomainContext;
  feed: ChangeFeed;
  auth: Authenticator;
  log: ErrorLogger & {
    warn(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
    debug(obj: object, msg: string): void;
  };
  /** The manifest of persisted documents and whether only they run. */
  trusted: TrustedDocuments;
  /** Single-connection reservations of graphql-sse (defaults: 30 s, 10 per key). */
  streamTokens?: StreamTokenLimits;
}

export type VigilYoga = YogaServerInstance<ServerContext, GraphQLContext>;

/**
 * GraphQL over HTTP at /graphql (with yoga's SSE for subscriptions and an offline GraphiQL), and graphql-sse at
 * /graphql/stream in both of its modes.
 */
export function createGraphQL(deps: YogaDeps): VigilYoga {
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    batching: false,
    cors: false, // src/http/origin.ts decides cross-origin access for every edge
    // GraphiQL's editor is several MB of inlined assets: loaded on the first page request, not at start
    renderGraphiQL: async (options) =>
      withApiKey((await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options)),
    graphiql: GRAPHIQL_OPTIONS,
    logging: {
      debug: (...args) => deps.log.debug({ args }, 'yoga'),
      info: (...args) => deps.log.info({ args }, 'yoga'),
      warn: (...args) => deps.log.warn({ args }, 'yoga'),
      // yoga reports every error it masks: client errors are answered, not logged (the request line records
      // them at debug), and faults were logged once already, with the correlation id, by the mapper.
      error: (...args) => {
        if (!args.every((a) => isClientError(a) || wasLogged(a))) deps.log.error({ args }, 'yoga');
      },
    },
    maskedErrors: { maskError: (error) => toClientError(error, undefined, deps.log) },
    plugins: [
      useDocumentLimits(),
      useTrustedDocuments(deps.trusted, deps.log),
      useErrorResponses(deps.log),
      useGraphQLSse({
        endpoint: '/graphql/stream',
        auth: deps.auth,
        log: deps.log,
        trusted: deps.trusted,
        tokens: deps.streamTokens ?? { ttlMs: 30_000, perOwner: 10 },
      }),
      useClientErrors(deps.log),
      useRequestErrors(deps.log),
    ],
    context: async ({ request, correlationId, remoteAddress, principal: known }) => {
      try {
        const principal = known ?? (await deps.auth.authenticate((name) => request.headers.get(name), remoteAddress));
        return { principal, correlationId, signal: request.signal, domain: deps.domain, feed: deps.feed, db: deps.db };
      } catch (err) {
        throw toClientError(err, correlationId, deps.log, true);
      }
    },
  });
}
