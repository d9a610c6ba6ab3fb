import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** The statuses node itself answers a request it cannot parse with (its default `clientError` handling). */
function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers a request node could not parse (headers over the limit, a malformed request line): node's own status,
 * with the REST error body and a contract code instead of an empty body (issue 14, item 7). The request never
 * reached a route, so the body is the REST shape, as for the other refusals made before routing.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = statusOf(err.code);
  const correlationId = randomUUID();
  const body = JSON.stringify({
    detail: status === 431 ? 'Request headers over the limit' : `${STATUS_CODES[status] ?? 'Bad request'}`,
    error_code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED',
    correlation_id: correlationId,
    timestamp: new Date().toISOString(),
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Correlation-Id: ${correlationId}\r\n\r\n${body}`,
  );
}
