import type { VigilError } from '../domain/errors.js';
import { graphqlErrorReply } from './graphql-errors.js';
import { type ErrorReply, NOTHING_TO_LOG } from './reply.js';
import { restErrorReply } from './rest-errors.js';

export function isGraphQLPath(path: string): boolean {
  return path === '/graphql' || path.startsWith('/graphql/');
}

/**
 * A refusal made before any route runs (browser rules, body limits, unknown paths): in the GraphQL error shape on
 * `/graphql*`, where the client speaks GraphQL, and in the REST shape everywhere else.
 */
export function refusalReply(path: string, error: VigilError, correlationId: string): ErrorReply {
  return isGraphQLPath(path)
    ? graphqlErrorReply(error, correlationId, NOTHING_TO_LOG)
    : restErrorReply(error, correlationId, NOTHING_TO_LOG);
}
