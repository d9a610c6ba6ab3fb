import type { IncomingMessage, ServerResponse } from 'node:http';
import { VigilError } from '../domain/errors.js';
import type { VigilYoga } from './yoga.js';

/** Helpers of the GraphQL HTTP edge (dispatch.ts and the paths it chooses). */

export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return contentType.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8 text; bytes that are not UTF-8 are a malformed request, not a document with U+FFFD in it. */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new VigilError('VALIDATION_FAILED', 'The request body is not valid UTF-8', {
      issues: [{ loc: ['body'], msg: 'not valid UTF-8', type: 'value_error' }],
    });
  }
}

/**
 * The body as a string. Not the Buffer: a chunk from the socket is a slice of a larger allocation, and a wait or a
 * stream that kept it would keep all of that alive for its whole life.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    req.on('data', onData);
    req.once('end', () => {
      // Let go of the chunks (and this scope): a held wait keeps its request, and so its listeners, while it waits.
      req.off('data', onData);
      req.off('error', reject);
      try {
        resolve(utf8Text(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    req.once('error', reject);
  });
}

export interface GraphQLParams {
  query: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

/** The body as GraphQL-over-HTTP parameters, or null for anything a lean path leaves to yoga. */
export function paramsOf(body: string): GraphQLParams | null {
  let params: { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown };
  try {
    params = JSON.parse(body);
  } catch {
    return null;
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) return null;
  const { query, variables, operationName, extensions } = params;
  if (
    typeof query !== 'string' ||
    (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) ||
    (operationName != null && typeof operationName !== 'string') ||
    (extensions != null && (typeof extensions !== 'object' || Object.keys(extensions).length > 0))
  ) {
    return null;
  }
  return {
    query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (operationName ?? undefined) as string | undefined,
  };
}

/**
 * Lets yoga answer a request whose body a lean path has already read (never after a document ran: nothing is
 * executed twice). Streams the answer, so a subscription handed over this way works too.
 */
export async function answerViaYoga(
  yoga: VigilYoga,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  serverContext: { correlationId: string; remoteAddress: string },
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // yoga's request.signal: what a wait or a subscription of this request ends on when the client goes away.
  const gone = new AbortController();
  const hangUp = () => {
    if (!res.writableFinished) gone.abort();
  };
  if (res.destroyed) hangUp();
  else res.once('close', hangUp);
  const response = await yoga.fetch(
    `http://localhost${req.url ?? '/graphql'}`,
    { method: req.method ?? 'POST', headers, body, signal: gone.signal } as RequestInit,
    serverContext,
  );
  if (res.destroyed) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    out[k] = v;
  });
  res.writeHead(response.status, out);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    res.write(value);
  }
  res.end();
}
