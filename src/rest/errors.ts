import { HTTPException } from 'hono/http-exception';
import { type ErrorCode, httpStatusOf, type ValidationIssue, VigilError, vigilErrorOf } from '../domain/errors.js';
import type { Logger } from '../log.js';

/** Where a FastAPI validation item points: the first element of `loc`. */
const ROOTS = new Set(['body', 'query', 'path', 'header']);

/** Domain issues name the field only (`['events', 0, …]`); on REST they come from the body unless rooted already. */
function rooted(issue: ValidationIssue): ValidationIssue {
  const first = issue.loc[0];
  return typeof first === 'string' && ROOTS.has(first) ? issue : { ...issue, loc: ['body', ...issue.loc] };
}

/** What a Hono-internal HTTPException (never expected: bodies and validation are ours) means in our codes. */
function fromHttpException(err: HTTPException): VigilError {
  if (err.status === 413) return new VigilError('PAYLOAD_TOO_LARGE', 'Request body too large');
  if (err.status === 404) return new VigilError('NOT_FOUND', 'Not Found');
  if (err.status >= 500) return new VigilError('INTERNAL', 'Unexpected error.');
  return new VigilError('VALIDATION_FAILED', err.message, {
    issues: [{ loc: ['body'], msg: err.message, type: 'value_error' }],
  });
}

export interface ErrorBody {
  detail: string | ValidationIssue[];
  error_code: ErrorCode;
  correlation_id: string;
  timestamp: string;
}

/** The REST error body (API.md §4): FastAPI's `detail` (a list of `{loc, msg, type}` for 422) plus our fields. */
export function errorBody(error: VigilError, correlationId: string): ErrorBody {
  const detail =
    error.code === 'VALIDATION_FAILED'
      ? (error.issues ?? [{ loc: ['body'], msg: error.message, type: 'value_error' }]).map(rooted)
      : error.message;
  return { detail, error_code: error.code, correlation_id: correlationId, timestamp: new Date().toISOString() };
}

/**
 * The one place REST turns an error into a response: a VigilError keeps its code, its status comes from
 * `httpStatusOf`, `Retry-After` from `retryAfter`; anything unexpected is logged and masked as INTERNAL.
 */
export function errorResponse(err: unknown, correlationId: string, log: Logger): Response {
  let error: VigilError;
  const known = vigilErrorOf(err);
  if (known) error = known;
  else if (err instanceof HTTPException) error = fromHttpException(err);
  else {
    log.error({ err, correlationId }, 'unexpected error in a REST request');
    error = new VigilError('INTERNAL', 'Unexpected error.');
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(error.retryAfter));
  return new Response(JSON.stringify(errorBody(error, correlationId)), {
    status: httpStatusOf(error.code),
    headers,
  });
}
