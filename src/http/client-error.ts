import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { VigilError } from '../domain/errors.js';
import { NOTHING_TO_LOG } from './reply.js';
import { restErrorReply } from './rest-errors.js';

/** The statuses node itself answers a request it cannot parse with (its default `clientError` handling). */
function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers a request node could not parse (headers over the limit, a malformed request line): node's own status
 * (the request never parsed, so it is not a contract validation failure with a 422), with the REST error body and a
 * contract code instead of an empty body. The request never reached a route, so the body is the REST shape, as for
 * the other refusals made before routing.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = statusOf(err.code);
  const correlationId = randomUUID();
  const error =
    status === 413
      ? new VigilError('PAYLOAD_TOO_LARGE', STATUS_CODES[413] ?? 'Payload too large')
      : new VigilError(
          'VALIDATION_FAILED',
          status === 431 ? 'Request headers over the limit' : `${STATUS_CODES[status]}`,
        );
  const reply = restErrorReply(error, correlationId, NOTHING_TO_LOG, { status });
  const headers = Object.entries(reply.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      headers.join('') +
      `Content-Length: ${Buffer.byteLength(reply.body)}\r\n` +
      `X-Correlation-Id: ${correlationId}\r\n\r\n${reply.body}`,
  );
}
