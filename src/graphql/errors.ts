import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { httpStatusOf, VigilError } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';

export interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/**
 * Duck-typed on purpose: graphql can be loaded twice (ESM and CJS copies under a test runner or bundler), and then
 * `instanceof GraphQLError` is false for errors the executor made.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return (
    error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError' && 'extensions' in error)
  );
}

function vigilOf(error: unknown, depth = 0): VigilError | null {
  if (error instanceof VigilError) return error;
  if (depth < 5 && isGraphQLError(error) && error.originalError) return vigilOf(error.originalError, depth + 1);
  return null;
}

/**
 * Turns any error into what a client may see (API.md §4): a VigilError keeps its message and gets
 * `extensions.code` (and `issues` for VALIDATION_FAILED); a GraphQL error of the request itself (syntax, unknown
 * field, bad variable) passes as is; anything else is masked as INTERNAL and logged.
 */
export function toClientError(
  error: unknown,
  correlationId: string | undefined,
  log: ErrorLogger,
  /** True for errors of the request itself (authentication): they set the HTTP status of the whole response. */
  requestLevel = false,
): GraphQLError {
  const source = isGraphQLError(error) ? error : null;
  const base = { nodes: source?.nodes, path: source?.path, source: source?.source, positions: source?.positions };
  const vigil = vigilOf(error);
  if (vigil) {
    const status = requestLevel ? httpStatusOf(vigil.code) : undefined;
    return new GraphQLError(vigil.message, {
      ...base,
      extensions: {
        code: vigil.code,
        ...(correlationId && { correlationId }),
        ...(vigil.issues && { issues: vigil.issues }),
        ...(status && {
          http: {
            status,
            ...(vigil.retryAfter !== undefined && { headers: { 'Retry-After': String(vigil.retryAfter) } }),
          },
        }),
      },
    });
  }
  if (source && (!source.originalError || isGraphQLError(source.originalError))) {
    if (correlationId && source.extensions.correlationId === undefined) {
      (source.extensions as Record<string, unknown>).correlationId = correlationId;
    }
    return source;
  }
  if (source?.extensions.code === 'INTERNAL') return source;
  log.error({ err: source?.originalError ?? error, correlationId }, 'unexpected error in a GraphQL operation');
  return new GraphQLError('Unexpected error.', {
    ...base,
    extensions: { code: 'INTERNAL', ...(correlationId && { correlationId }) },
  });
}

function mapErrors(result: ExecutionResult, correlationId: string, log: ErrorLogger): ExecutionResult {
  if (!result.errors?.length) return result;
  // `data: null` is explicit so graphql-sse recognizes an errors-only result (a failed subscribe) as a result.
  return { data: null, ...result, errors: result.errors.map((e) => toClientError(e, correlationId, log)) };
}

/**
 * Maps errors of every execution and subscription event, on every transport (yoga's SSE and graphql-sse included),
 * before yoga's own masking sees them, adding the request's correlation id.
 */
export function useClientErrors(log: ErrorLogger): Plugin<GraphQLContext> {
  const onDone = (correlationId: string) => (payload: Parameters<typeof handleStreamOrSingleExecutionResult>[0]) =>
    handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
      setResult(mapErrors(result, correlationId, log));
    });
  return {
    onExecute: ({ args }) => ({ onExecuteDone: onDone(args.contextValue.correlationId) }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: onDone(args.contextValue.correlationId),
      onSubscribeError: ({ error, setError }) => setError(toClientError(error, args.contextValue.correlationId, log)),
    }),
  };
}
