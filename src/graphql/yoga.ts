import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../access/authenticate.js';
import type { Db } from '../db/client.js';
import type { DomainContext } from '../domain/context.js';
import type { ChangeFeed } from '../feed/feed.js';
import { useDocumentLimits } from './armor.js';
import type { GraphQLContext } from './context.js';
import { type ErrorLogger, toClientError, useClientErrors, useRequestErrors } from './errors.js';
import { schema } from './schema.js';

/** What the HTTP layer hands yoga with each request. */
export interface ServerContext {
  correlationId: string;
  remoteAddress: string;
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
    // GraphiQL's editor is several MB of inlined assets: loaded on the first page request, not at start
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    graphiql: { title: 'Vigil GraphiQL', subscriptionsProtocol: 'SSE' },
    logging: {
      debug: (...args) => deps.log.debug({ args }, 'yoga'),
      info: (...args) => deps.log.info({ args }, 'yoga'),
      warn: (...args) => deps.log.warn({ args }, 'yoga'),
      error: (...args) => deps.log.error({ args }, 'yoga'),
    },
    maskedErrors: { maskError: (error) => toClientError(error, undefined, deps.log) },
    plugins: [
      useDocumentLimits(),
      useGraphQLSSE({ endpoint: '/graphql/stream' }),
      useClientErrors(deps.log),
      useRequestErrors(deps.log),
    ],
    context: async ({ request, correlationId, remoteAddress }) => {
      try {
        const principal = await deps.auth.authenticate((name) => request.headers.get(name), remoteAddress);
        return { principal, correlationId, signal: request.signal, domain: deps.domain, feed: deps.feed, db: deps.db };
      } catch (err) {
        throw toClientError(err, correlationId, deps.log, true);
      }
    },
  });
}
