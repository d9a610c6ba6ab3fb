import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import { httpStatusOf, type VigilError, vigilErrorOf } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';

/** Codes yoga and graphql-js give an invalid request; all are VALIDATION_FAILED in the contract's closed set. */
const SPEC_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

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

/** Faults already logged (at error level, once): the same fault can reach the mapper more than once. */
const logged = new WeakSet<object>();

function logFault(log: ErrorLogger, err: unknown, correlationId: string | undefined): void {
  if (typeof err === 'object' && err !== null) {
    if (logged.has(err)) return;
    logged.add(err);
  }
  log.error({ err, correlationId }, 'unexpected error in a GraphQL operation');
}

/**
 * True when an error is one of ours to answer (a VigilError, or a GraphQL error of the request itself or already
 * mapped): not a fault, so it is not logged above debug (issue 14, item 8).
 */
export function isClientError(error: unknown): boolean {
  if (vigilOf(error)) return true;
  if (!isGraphQLError(error)) return false;
  if (error.originalError && !isGraphQLError(error.originalError)) return false;
  const code = error.extensions?.code;
  return code !== 'INTERNAL';
}

/**
 * True when a fault was already logged by the mapper (so yoga's own report of it is a duplicate): the fault itself,
 * or the INTERNAL error the mapper masked it as.
 */
export function wasLogged(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (isGraphQLError(error) && error.extensions?.code === 'INTERNAL') return true;
  const original = isGraphQLError(error) ? error.originalError : undefined;
  return logged.has(error) || (original !== undefined && logged.has(original));
}

function internalError(correlationId: string | undefined): GraphQLError {
  return new GraphQLError('Unexpected error.', {
    extensions: { code: 'INTERNAL', ...(correlationId && { correlationId }) },
  });
}

/**
 * Turns any error into what a client may see (API.md §4): a VigilError keeps its message and gets
 * `extensions.code` (and `issues` for VALIDATION_FAILED); a GraphQL error of the request itself (syntax, unknown
 * field, bad variable) gets VALIDATION_FAILED; anything else is masked as INTERNAL and logged. Total: a fault
 * inside the mapping itself is masked too, never thrown.
 */
export function toClientError(
  error: unknown,
  correlationId: string | undefined,
  log: ErrorLogger,
  /** True for errors of the request itself (authentication): they set the HTTP status of the whole response. */
  requestLevel = false,
): GraphQLError {
  try {
    return mapError(error, correlationId, log, requestLevel);
  } catch (fault) {
    logFault(log, fault, correlationId);
    return internalError(correlationId);
  }
}

/**
 * A request error (document parse or validation, variable coercion) follows one rule on every transport, the
 * GraphQL-over-HTTP spec's: 200 with `application/json` and on event streams, 400 with
 * `application/graphql-response+json` (yoga reads `spec: true` that way).
 */
const REQUEST_ERROR_HTTP = { status: 400, spec: true } as const;

function mapError(
  error: unknown,
  correlationId: string | undefined,
  log: ErrorLogger,
  requestLevel: boolean,
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
    // graphql-jit's errors may have no extensions at all.
    const { code, http, ...rest } = (source.extensions ?? {}) as Record<string, unknown>;
    const spec = typeof code === 'string' && SPEC_CODES.has(code);
    // A malformed request (BAD_REQUEST) or one naming no operation it holds keeps the library's own status.
    const requestError = spec && code !== 'BAD_REQUEST' && code !== 'OPERATION_RESOLUTION_FAILURE';
    const extensions: Record<string, unknown> = {
      ...rest,
      // The request itself is invalid (syntax, unknown field, bad variable): the contract's code, yoga's as detail.
      code: spec || code === undefined ? 'VALIDATION_FAILED' : code,
      ...(spec && { graphqlCode: code }),
      ...(correlationId && { correlationId }),
    };
    const httpOut = requestError ? REQUEST_ERROR_HTTP : http;
    return withLocations(
      new GraphQLError(source.message, {
        ...base,
        extensions: { ...extensions, ...(httpOut ? { http: httpOut } : {}) },
      }),
    );
  }
  if (source?.extensions?.code === 'INTERNAL') return source;
  logFault(log, source?.originalError ?? error, correlationId);
  return withLocations(
    new GraphQLError('Unexpected error.', {
      ...base,
      extensions: {
        code: 'INTERNAL',
        ...(correlationId && { correlationId }),
        ...(requestLevel && { http: { status: 500 } }),
      },
    }),
  );
}

function mapErrors(result: ExecutionResult, correlationId: string, log: ErrorLogger, nullData = true): ExecutionResult {
  if (!result.errors?.length) return result;
  // No data at all: nothing ran (variables did not coerce), so its VALIDATION_FAILED errors are request errors.
  const nothingRan = !('data' in result);
  const errors = result.errors.map((e) => {
    const error = toClientError(e, correlationId, log);
    const ext = error.extensions as Record<string, unknown>;
    const status = (ext.http as { status?: number } | undefined)?.status;
    // Not the refusals that have their own status: access (401/403/422), yoga's BAD_REQUEST (batching, GET mutations)
    // and its OPERATION_RESOLUTION_FAILURE (an operationName the document does not hold, or not a string).
    const ownStatus = ext.graphqlCode === 'BAD_REQUEST' || ext.graphqlCode === 'OPERATION_RESOLUTION_FAILURE';
    if (nothingRan && ext.code === 'VALIDATION_FAILED' && !ownStatus && (status ?? 400) === 400)
      ext.http = REQUEST_ERROR_HTTP;
    return error;
  });
  // A `data` key (undefined, so it is not serialized: a request error has no data entry) makes graphql-sse
  // recognize an errors-only result (bad variables, a failed subscribe) as a result.
  return nullData && !('data' in result) ? { data: undefined, ...result, errors } : { ...result, errors };
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
