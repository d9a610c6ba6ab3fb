import { type ClientRequest, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, refusalOf } from './address.js';

/** Bytes of the response body kept in the attempt log. */
export const EXCERPT_BYTES = 1024;
/** A response body longer than this is not read to its end: the connection is dropped instead. */
const DRAIN_LIMIT = 64 * 1024;

export interface PostResult {
  /** The HTTP status, or null when no response came (refused, unreachable, timed out, aborted). */
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  durationMs: number;
}

export interface Poster {
  post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<PostResult>;
  close(): void;
}

/**
 * POSTs with node:http/https, which never follow redirects (a 3xx is an answer like any other, and not a success).
 * Every connection goes through `lookup`, which vets each address it resolves; IP literals, which skip the lookup,
 * are vetted here; and the socket's remote address is checked again once connected. Keep-alive agents save the
 * handshake on the next delivery to the same receiver.
 */
export function createPoster(options: { timeoutMs: number; allowPrivate: boolean; lookup: LookupFunction }): Poster {
  const agentOptions = { keepAlive: true, maxSockets: 64, lookup: options.lookup };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };

  const post = (url: string, headers: Record<string, string>, body: string, signal: AbortSignal) =>
    new Promise<PostResult>((resolve) => {
      const started = performance.now();
      let settled = false;
      let req: ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (r: Omit<PostResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve({ ...r, durationMs: Math.round(performance.now() - started) });
      };
      const fail = (error: string) => finish({ statusCode: null, error, excerpt: null });
      const onAbort = () => req?.destroy(new Error('aborted: the instance is shutting down'));

      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return fail('invalid URL');
      }
      const host = hostOf(target);
      const literalRefusal = isIP(host) ? refusalOf(host, options.allowPrivate) : null;
      if (literalRefusal) return fail(`refused: ${literalRefusal}`);
      if (signal.aborted) return fail('aborted: the instance is shutting down');
      signal.addEventListener('abort', onAbort);
      timer = setTimeout(() => req?.destroy(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);

      const https = target.protocol === 'https:';
      const r = (https ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: https ? agents.https : agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      });
      req = r;
      r.on('socket', (socket) => {
        const check = () => {
          const address = socket.remoteAddress;
          const refusal = address ? refusalOf(address, options.allowPrivate) : 'no remote address';
          if (refusal) r.destroy(new Error(`refused: connected to ${refusal}`));
        };
        if (socket.remoteAddress) check();
        else socket.once('connect', check);
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (kept < EXCERPT_BYTES) {
            chunks.push(chunk.subarray(0, EXCERPT_BYTES - kept));
            kept += Math.min(chunk.length, EXCERPT_BYTES - kept);
          }
          if (read > DRAIN_LIMIT) res.destroy();
        });
        const done = () =>
          finish({
            statusCode: res.statusCode ?? null,
            error: null,
            excerpt: kept > 0 ? Buffer.concat(chunks).toString('utf8') : null,
          });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      r.on('error', (err: NodeJS.ErrnoException) =>
        fail(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message),
      );
      r.end(body);
    });

  return {
    post,
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
