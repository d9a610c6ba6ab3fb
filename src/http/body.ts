import { IncomingMessage } from 'node:http';
import { VigilError } from '../domain/errors.js';

const tooLarge = (limit: number) =>
  new VigilError('PAYLOAD_TOO_LARGE', `Request body over the limit of ${limit} bytes`);

/**
 * A declared body over the limit is refused before anything reads it (node reads exactly the declared length, so
 * a declared length within the limit needs no counting). An invalid Content-Length is VALIDATION_FAILED (node's
 * parser refuses most before this runs).
 */
export function declaredBodyRefusal(req: IncomingMessage, limit: number): VigilError | null {
  const declared = req.headers['content-length'];
  if (declared === undefined) return null;
  const length = Number(declared);
  if (!Number.isFinite(length) || length < 0) {
    return new VigilError('VALIDATION_FAILED', 'Invalid Content-Length', {
      issues: [{ loc: ['header', 'content-length'], msg: 'must be a non-negative integer', type: 'value_error' }],
    });
  }
  return length > limit ? tooLarge(limit) : null;
}

/** A body of unknown length: chunked, with no Content-Length. */
export function hasUnknownLength(req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads a body of unknown length (chunked) with the limit counted as it arrives, and gives the routes a request
 * whose body is that buffer with its length declared, so every route reads it as it reads any other body. Clients
 * that stream a body (Python's requests with a generator, `curl -T -`) expect it to be accepted; refusing every
 * chunked body with 411 would refuse them whatever their size. Past the limit: PAYLOAD_TOO_LARGE, and what is
 * still coming is read and dropped so the answer can be written (the connection then closes).
 */
export function bufferBody(req: IncomingMessage, limit: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size <= limit) return void chunks.push(chunk);
      settled = true;
      chunks.length = 0;
      reject(tooLarge(limit));
    });
    req.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(replay(req, Buffer.concat(chunks)));
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    req.once('error', fail);
    // The client went away before the end of its body: nothing to answer, nothing kept.
    req.once('close', () => fail(new VigilError('VALIDATION_FAILED', 'The request body ended early')));
  });
}

/** A request like `req` (same socket, method, URL, headers) whose body is `body`, declared with its length. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  const { 'transfer-encoding': _chunked, ...headers } = req.headers;
  copy.headers = { ...headers, 'content-length': String(body.byteLength) };
  copy.rawHeaders = Object.entries(copy.headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value ?? '']).flatMap((v) => [name, v]),
  );
  copy.complete = true;
  if (body.byteLength > 0) copy.push(body);
  copy.push(null);
  return copy;
}
