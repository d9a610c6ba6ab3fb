import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import { VigilError } from '../domain/errors.js';
import { parse } from '../domain/inputs.js';
import type { RestEnv } from './context.js';

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

function invalid(loc: string[], msg: string, type: string): VigilError {
  return new VigilError('VALIDATION_FAILED', msg, { issues: [{ loc, msg, type }] });
}

/**
 * The body as UTF-8 text, refused with PAYLOAD_TOO_LARGE past `limit` bytes (declared or actually sent). Read from
 * node's request: through the fetch-API Request, Hono would build it (with a stream and an AbortController) for every
 * request, and keep it as long as the request is held.
 */
async function readText(c: Context<RestEnv>, limit: number): Promise<string> {
  const tooLarge = () => new VigilError('PAYLOAD_TOO_LARGE', `Request body over ${limit} bytes`);
  if (Number(c.req.header('content-length') ?? 0) > limit) throw tooLarge();
  return decode(await readNode(c.env.incoming, limit, tooLarge));
}

function readNode(incoming: IncomingMessage, limit: number, tooLarge: () => VigilError): Promise<Buffer> {
  const early = () => new VigilError('VALIDATION_FAILED', 'The request body ended early');
  if (incoming.destroyed || incoming.readableEnded) return Promise.reject(early()); // the client is gone
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      chunks = [];
      reject(err);
    };
    // Past the limit the rest is read and dropped (not destroyed), so the 413 can still be written.
    const onData = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > limit) fail(tooLarge());
      else chunks.push(chunk);
    };
    const onClose = () => fail(early());
    incoming.on('data', onData);
    incoming.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
      // A held wait keeps its request as long as it waits: these listeners would keep this scope (and the chunks,
      // slices of the socket's reads) with it. Without an 'error' listener node emits none (and the body is complete).
      chunks = [];
      incoming.off('data', onData);
      incoming.off('error', fail);
      incoming.off('close', onClose);
    });
    incoming.on('error', fail);
    incoming.on('close', onClose);
  });
}

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(['body'], 'The body is not valid UTF-8', 'unicode_decode');
  }
}

/**
 * Reads a JSON body and validates it with `schema`, the way FastAPI does for the seeds' clients: no Content-Type
 * means JSON, a non-JSON Content-Type or malformed JSON is a 422 (never a 500, never a write), and an empty body is
 * `{}` when the body is optional (seed 000's `timeout` then takes its default) or "Field required" when it is not.
 * The route registers the same schema in the OpenAPI document.
 */
export async function readJson<T extends z.ZodType>(
  c: Context<RestEnv>,
  schema: T,
  options: { limit: number; optional?: boolean },
): Promise<z.output<T>> {
  const text = await readText(c, options.limit);
  if (text.trim() === '') {
    if (options.optional) return parse(schema, {}, ['body'], c.env.limits);
    throw invalid(['body'], 'Field required', 'missing');
  }
  const contentType = c.req.header('content-type');
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (contentType !== undefined && !JSON_TYPE.test(mediaType)) {
    throw invalid(
      ['header', 'content-type'],
      `Content-Type must be application/json, not ${mediaType}`,
      'content_type',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(['body'], `JSON decode error: ${(err as Error).message}`, 'json_invalid');
  }
  return parse(schema, value, ['body'], c.env.limits);
}
