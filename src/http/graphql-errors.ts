import { type ExecutionResult, GraphQLError } from 'graphql';
import { httpStatusOf, type VigilError, vigilErrorOf } from '../domain/errors.js';
import type { ErrorReply } from './reply.js';

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
export const REQUEST_ERROR_HTTP = { status: 400, spec: true } as const;

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

/**
 * The one GraphQL error reply (API.md §4): `{errors: [{message, extensions: {code, correlationId, …}}]}` with the
 * status of the code (`httpStatusOf`, through the mapper) and `Retry-After` when the error has one. Faults are
 * masked as INTERNAL (500) and logged once by the mapper. `status` keeps a protocol status (405, 406, 415…) that a
 * library chose for a refusal the contract's code does not pin.
 */
export function graphqlErrorReply(
  err: unknown,
  correlationId: string,
  log: ErrorLogger,
  options: { status?: number; contentType?: string } = {},
): ErrorReply {
  const error = toClientError(err, correlationId, log, true);
  const { http, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
  const httpOf = (http ?? {}) as { status?: number; headers?: Record<string, string> };
  const status = options.status ?? httpOf.status ?? (extensions.code === 'INTERNAL' ? 500 : 400);
  const body = JSON.stringify({ errors: [{ message: error.message, extensions }] });
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json; charset=utf-8',
    ...Object.fromEntries(Object.entries(httpOf.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  return { status, headers, body };
}

/**
 * Several request errors as one body (graphql-sse's single-connection POST answers a document that does not
 * validate this way), with the `http` extension (yoga's status hint) left out as yoga leaves it out.
 */
export function graphqlErrorsBody(errors: readonly GraphQLError[]): string {
  return JSON.stringify({ errors: errors.map(withoutHttp) });
}

/**
 * A result as an event stream carries it (`event: next`): its errors as a client sees them — mapped here with the
 * subscriber's own correlation id when `mapWith` is given (results of yoga's envelop come mapped already) — without
 * the `http` extension yoga reads for a response's status.
 */
export function graphqlStreamResult(
  result: ExecutionResult,
  mapWith?: { correlationId: string; log: ErrorLogger },
): string {
  if (!result.errors?.length) return JSON.stringify(result);
  const errors = result.errors.map((e) =>
    withoutHttp(mapWith ? toClientError(e, mapWith.correlationId, mapWith.log) : e),
  );
  return JSON.stringify({ ...result, errors });
}

/** One error as an event stream's last `next` (a stream ended early: a slow consumer, shutdown). */
export function graphqlStreamError(err: unknown, correlationId: string, log: ErrorLogger): string {
  return JSON.stringify({ errors: [withoutHttp(toClientError(err, correlationId, log))] });
}

/** An error as a client sees it: its JSON without the `http` extension yoga reads for the status. */
export function withoutHttp(error: GraphQLError): object {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return { ...(typeof error.toJSON === 'function' ? error.toJSON() : error), extensions };
}

/** A scalar's refusal of a value: the request's own error, VALIDATION_FAILED (graphql-js adds where it was). */
export function invalidValue(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });
}
