import { HTTPException } from 'hono/http-exception';
import { VigilError } from '../domain/errors.js';
import type { ErrorLogger } from '../http/graphql-errors.js';
import { replyResponse } from '../http/reply.js';
import { restErrorReply } from '../http/rest-errors.js';

/** What a Hono-internal HTTPException (never expected: bodies and validation are ours) means in our codes. */
function fromHttpException(err: HTTPException): VigilError {
  if (err.status === 413) return new VigilError('PAYLOAD_TOO_LARGE', 'Request body too large');
  if (err.status === 404) return new VigilError('NOT_FOUND', 'Not Found');
  if (err.status >= 500) return new VigilError('INTERNAL', 'Unexpected error.');
  return new VigilError('VALIDATION_FAILED', err.message, {
    issues: [{ loc: ['body'], msg: err.message, type: 'value_error' }],
  });
}

/** Hono's `onError` and `notFound`: the edge's one REST error reply, as the fetch-API Response Hono writes. */
export function errorResponse(err: unknown, correlationId: string, log: ErrorLogger): Response {
  const error = err instanceof HTTPException ? fromHttpException(err) : err;
  return replyResponse(restErrorReply(error, correlationId, log));
}

/**
 * A known path asked with a method it does not serve: 405 with `Allow`. API.md §4 has no row for it; like GraphQL's
 * 405 and node's own 400/431, it keeps its HTTP status and carries the closest code, VALIDATION_FAILED.
 */
export function methodNotAllowed(method: string, allow: string[], correlationId: string, log: ErrorLogger): Response {
  const error = new VigilError('VALIDATION_FAILED', `${method} is not allowed here; allowed: ${allow.join(', ')}`);
  const reply = restErrorReply(error, correlationId, log, { status: 405 });
  return replyResponse({ ...reply, headers: { ...reply.headers, allow: allow.join(', ') } });
}
