import { request } from 'node:http';

/** One request as the fuzzers build it: raw enough to carry invalid UTF-8 and any header a client can send. */
export interface FuzzRequest {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** How long the server may legitimately hold the request before its status line (a wait's own timeout). */
  holdMs?: number;
}

export interface FuzzResponse {
  /** Undefined when no status line arrived in time (a hang), or the server closed the connection without one. */
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body read (for a stream, what arrived in the first `streamReadMs`). */
  text: string;
  /**
   * `hang` when no status line arrived in time; `reset` when the connection closed without one; `held` when a wait
   * the request asked for (longer than `LONG_HOLD_MS`) was still held when the client gave up (not a fault);
   * `unsendable` when node's client refused the request itself (not the server's fault).
   */
  failure?: 'hang' | 'reset' | 'held' | 'unsendable';
  detail?: string;
}

/** Status line wait past a request's own hold: a request that gets no answer in this time has hung. */
export const HANG_MS = 2_000;
/** A wait longer than this is legitimately held: the client gives up after `HANG_MS` and counts no fault. */
export const LONG_HOLD_MS = 3_000;
/** How much of a stream (SSE) is read before the client hangs up: the first frames carry any error. */
const STREAM_READ_MS = 300;
/** How long a non-stream body may take once the status line arrived. */
const BODY_READ_MS = 2_000;

/**
 * Sends one request on its own connection and reads the answer within bounds: no status line within
 * `HANG_MS + holdMs` is a hang; a stream is read for a short while and then dropped.
 */
export async function send(baseUrl: string, req: FuzzRequest): Promise<FuzzResponse> {
  try {
    return await exchange(new URL(baseUrl), req);
  } catch (err) {
    return { headers: {}, text: '', failure: 'unsendable', detail: String(err) };
  }
}

function exchange(url: URL, req: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (res: FuzzResponse) => {
      if (done) return;
      done = true;
      clearTimeout(hangTimer);
      outgoing.destroy();
      resolve(res);
    };
    const outgoing = request({
      host: url.hostname,
      port: url.port,
      method: req.method,
      path: req.path,
      headers: req.headers,
      agent: false,
      insecureHTTPParser: true,
    });
    const hold = req.holdMs ?? 0;
    const held = hold > LONG_HOLD_MS;
    const hangTimer = setTimeout(
      () =>
        finish({
          headers: {},
          text: '',
          failure: held ? 'held' : 'hang',
          detail: `no status line in ${held ? HANG_MS : HANG_MS + hold} ms`,
        }),
      held ? HANG_MS : HANG_MS + hold,
    );
    outgoing.on('error', (err) => finish({ headers: {}, text: '', failure: 'reset', detail: String(err) }));
    outgoing.on('response', (incoming) => {
      clearTimeout(hangTimer);
      const chunks: Buffer[] = [];
      const stream = /text\/event-stream/i.test(String(incoming.headers['content-type'] ?? ''));
      const answer = () => ({
        status: incoming.statusCode,
        headers: incoming.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      });
      const bodyTimer = setTimeout(() => finish(answer()), stream ? STREAM_READ_MS : BODY_READ_MS);
      incoming.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        // A GraphQL stream that completed has said all it will; reading on would only wait for the server's close.
        if (stream && /(^|\n)event: complete\n/.test(chunk.toString('utf8'))) {
          clearTimeout(bodyTimer);
          finish(answer());
        }
      });
      incoming.on('end', () => {
        clearTimeout(bodyTimer);
        finish(answer());
      });
      incoming.on('error', () => {
        clearTimeout(bodyTimer);
        finish(answer());
      });
    });
    outgoing.end(req.body);
  });
}

/** The request as one line a human can replay with curl (body shown as JSON text or hex when not UTF-8). */
export function describeRequest(req: FuzzRequest): string {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v}`)
    .join(' | ');
  let body = '';
  if (req.body) {
    const text = req.body.toString('utf8');
    const shown = Buffer.from(text, 'utf8').equals(req.body) ? JSON.stringify(text) : `hex:${req.body.toString('hex')}`;
    body = ` body=${shown.length > 300 ? `${shown.slice(0, 300)}…(${req.body.length} bytes)` : shown}`;
  }
  const path = req.path.length > 300 ? `${req.path.slice(0, 300)}…(${req.path.length})` : req.path;
  return `${req.method} ${path} [${headers}]${body}`;
}
