import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import { httpStatusOf, type VigilError, vigilErrorOf } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';

/** Codes yoga and graphql-js give an invalid request; all are VALIDATION_FAILED in the contract's closed set. */
const SPEC_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST']);

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
  if (depth < 5 && isGraphQLError(error) && error.originalError) return vigilOf(error.originalError, depth + 1);
  return vigilErrorOf(error);
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
  const withLocations = (e: GraphQLError) => {
    // graphql-jit's errors carry locations without nodes; keep them as graphql-js would have computed them.
    if (!e.locations && source?.locations)
      Object.defineProperty(e, 'locations', { value: source.locations, enumerable: true });
    return e;
  };
  const vigil = vigilOf(error);
  if (vigil) {
    // An unavailable server sets the status of the whole response too, so clients and proxies see 503 + Retry-After.
    const status = requestLevel || vigil.code === 'SERVICE_UNAVAILABLE' ? httpStatusOf(vigil.code) : undefined;
    return withLocations(
      new GraphQLError(vigil.message, {
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
      }),
    );
  }
  if (source && (!source.originalError || isGraphQLError(source.originalError))) {
    // A new error, never the given one: yoga caches validation errors and hands the same objects to every request.
    const { code, http: _http, ...rest } = (source.extensions ?? {}) as Record<string, unknown>;
    const spec = typeof code === 'string' && SPEC_CODES.has(code);
    const extensions: Record<string, unknown> = {
      ...rest,
      // The request itself is invalid (syntax, unknown field, bad variable): the contract's code, yoga's as detail.
      code: spec || code === undefined ? 'VALIDATION_FAILED' : code,
      ...(spec && { graphqlCode: code }),
      ...(correlationId && { correlationId }),
    };
    return new GraphQLError(source.message, {
      ...base,
      extensions: { ...extensions, ...(_http ? { http: _http } : {}) },
    });
  }
  // graphql-jit's errors may have no `extensions` at all.
  if (source?.extensions?.code === 'INTERNAL') return source;
  log.error({ err: source?.originalError ?? error, correlationId }, 'unexpected error in a GraphQL operation');
  return withLocations(
    new GraphQLError('Unexpected error.', {
      ...base,
      extensions: { code: 'INTERNAL', ...(correlationId && { correlationId }) },
    }),
  );
}

function mapErrors(result: ExecutionResult, correlationId: string, log: ErrorLogger, nullData = true): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((e) => toClientError(e, correlationId, log));
  // `data: null` is explicit so graphql-sse recognizes an errors-only result (a failed subscribe) as a result.
  return nullData ? { data: null, ...result, errors } : { ...result, errors };
}

/**
 * Yoga answers some invalid requests (validation errors) without running the execution hooks; this maps those
 * results too, so every error on /graphql has a contract code and the correlation id.
 */
export function useRequestErrors(log: ErrorLogger): YogaPlugin<Record<string, unknown>, { correlationId?: string }> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      if (Symbol.asyncIterator in Object(result)) return;
      const correlationId = serverContext.correlationId ?? '';
      const map = (r: ExecutionResult) => mapErrors(r, correlationId, log, false);
      setResult(Array.isArray(result) ? result.map(map) : map(result as ExecutionResult));
    },
  };
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
