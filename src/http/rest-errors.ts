import { type ErrorCode, httpStatusOf, type ValidationIssue, VigilError, vigilErrorOf } from '../domain/errors.js';
import type { ErrorLogger } from './graphql-errors.js';
import type { ErrorReply } from './reply.js';

/** Where a FastAPI validation item points: the first element of `loc`. */
const ROOTS = new Set(['body', 'query', 'path', 'header']);

/** Domain issues name the field only (`['events', 0, …]`); on REST they come from the body unless rooted already. */
function rooted(issue: ValidationIssue): ValidationIssue {
  const first = issue.loc[0];
  return typeof first === 'string' && ROOTS.has(first) ? issue : { ...issue, loc: ['body', ...issue.loc] };
}

export interface RestErrorBody {
  detail: string | ValidationIssue[];
  error_code: ErrorCode;
  correlation_id: string;
  timestamp: string;
}

/**
 * The REST error body (API.md §4): FastAPI's `detail` (a list of `{loc, msg, type}` for 422, a sentence otherwise)
 * plus our fields. The only place it is built: REST replies, the refusals made before routing, node's clientError
 * and the `error` frame of REST event streams all go through it.
 */
export function restErrorBody(
  error: VigilError,
  correlationId: string,
  status = httpStatusOf(error.code),
): RestErrorBody {
  const detail =
    status === 422
      ? (error.issues ?? [{ loc: ['body'], msg: error.message, type: 'value_error' }]).map(rooted)
      : error.message;
  return { detail, error_code: error.code, correlation_id: correlationId, timestamp: new Date().toISOString() };
}

/** What a client may see of any error: a VigilError (or a database outage) as it is, anything else masked, logged. */
function restErrorOf(err: unknown, correlationId: string, log: ErrorLogger): VigilError {
  const known = vigilErrorOf(err);
  if (known) return known;
  log.error({ err, correlationId }, 'unexpected error in a REST request');
  return new VigilError('INTERNAL', 'Unexpected error.');
}

/**
 * The one REST error answer: the status of `httpStatusOf`, `Retry-After` from `retryAfter`, the body of
 * `restErrorBody`. `status` is only for node's clientError, which keeps the status node gives a request it could
 * not parse (400, 408, 431).
 */
export function restErrorReply(
  err: unknown,
  correlationId: string,
  log: ErrorLogger,
  options: { status?: number } = {},
): ErrorReply {
  const error = restErrorOf(err, correlationId, log);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(error.retryAfter));
  const status = options.status ?? httpStatusOf(error.code);
  return { status, headers, body: JSON.stringify(restErrorBody(error, correlationId, status)) };
}
