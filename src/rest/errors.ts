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
