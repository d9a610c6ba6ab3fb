import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (signatures are over these bytes). */
  raw: string;
  body: { id: string; type: string; createdAt: string; data: { execution: Record<string, unknown> } };
  /** performance.now() when the request arrived. */
  at: number;
  /** What the receiver answered. */
  status: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Decides the answer to the n-th request (0-based) of a delivery id, and to the n-th request overall. */
export type Responder = (r: { deliveryId: string; nthForDelivery: number; nth: number }) => Answer;

export interface Receiver {
  url: string;
  received: Received[];
  respond: Responder;
  /** Requests in flight now, per delivery id, and the most ever seen at once for any one delivery. */
  maxInFlightPerDelivery: number;
  /** The most requests ever in flight at once (all deliveries). */
  maxConcurrent: number;
  /** Resolves with the requests matching `predicate` once there are `n` of them; rejects after `timeoutMs`. */
  waitFor(n: number, predicate?: (r: Received) => boolean, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A real webhook receiver on 127.0.0.1 (port 0 unless given) that records every request and answers as told. */
export async function startReceiver(
  respond: Responder = () => ({ status: 200, body: 'ok' }),
  port = 0,
): Promise<Receiver> {
  const perDelivery = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const waiters = new Set<() => void>();
  const open = new Set<ServerResponse>();
  let nth = 0;
  let concurrent = 0;
  const state: Receiver = {
    url: '',
    received: [],
    respond,
    maxInFlightPerDelivery: 0,
    maxConcurrent: 0,
    waitFor(n, predicate = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = state.received.filter(predicate);
          if (matching.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: ${state.received.filter(predicate).length} of ${n} requests in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = performance.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const deliveryId = String(req.headers['vigil-delivery-id'] ?? '');
      const nthForDelivery = perDelivery.get(deliveryId) ?? 0;
      perDelivery.set(deliveryId, nthForDelivery + 1);
      const now = (inFlight.get(deliveryId) ?? 0) + 1;
      inFlight.set(deliveryId, now);
      state.maxInFlightPerDelivery = Math.max(state.maxInFlightPerDelivery, now);
      concurrent += 1;
      state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
      const answer = state.respond({ deliveryId, nthForDelivery, nth: nth++ });
      let body: Received['body'];
      try {
        body = JSON.parse(raw) as Received['body'];
      } catch {
        body = {} as Received['body'];
      }
      const record = () => {
        state.received.push({ headers: req.headers, raw, body, at: arrived, status: answer.status });
        for (const w of [...waiters]) w();
      };
      const send = () => {
        inFlight.set(deliveryId, (inFlight.get(deliveryId) ?? 1) - 1);
        concurrent -= 1;
        open.delete(res);
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers ?? { 'content-type': 'text/plain' });
        res.end(answer.body ?? '');
        record();
      };
      open.add(res);
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return state;
}
