import { Agent, request } from 'node:http';
import { openDatabase } from '../../src/db/client.js';
import { openPrincipal } from '../../src/domain/access.js';
import type { DomainContext } from '../../src/domain/context.js';
import { PgTransport } from '../../src/feed/transport.js';
import { rawPost } from '../user/http.js';

export { rawPost };

/** Wall-clock milliseconds with sub-millisecond resolution (one clock for writer and receiver: same process). */
export const now = () => performance.timeOrigin + performance.now();

export const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export function argv(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** One JSON line on stdout: the orchestrator reads the last one. */
export function report(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function graphql<T>(base: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function createExecutions(base: string, n: number, workflowId = 'bench'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () =>
        graphql<{ createExecution: { id: string } }>(
          base,
          'mutation($w: String!) { createExecution(input: {workflowId: $w}) { id } }',
          {
            w: workflowId,
          },
        ).then((d) => d.createExecution.id),
      ),
    );
    ids.push(...batch);
  }
  return ids;
}

/**
 * Another Vigil instance in this process, writing through the same domain code and notifying over the same
 * channel; `lastCommit()` is the time taken just before its last COMMIT was sent.
 */
export async function openWriter(databaseUrl: string) {
  const database = await openDatabase({ databaseUrl, poolSize: 4 });
  if (database.notifier.kind !== 'postgres') throw new Error('the writer needs PostgreSQL');
  const transport = new PgTransport(database.notifier.sql, databaseUrl);
  let t0 = 0;
  // "Just before COMMIT": drizzle transactions (status changes) commit when their callback returns; recordEvents'
  // pipelined transactions send COMMIT on a reserved connection, behind their last writes.
  const stamping = <T extends object>(reserved: T): T =>
    new Proxy(reserved, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'unsafe' || typeof value !== 'function') return value;
        return (query: string, ...rest: unknown[]) => {
          if (query === 'commit') t0 = now();
          return value.call(target, query, ...rest);
        };
      },
    });
  const db = new Proxy(database.db, {
    get(target, prop, receiver) {
      if (prop === '$client') {
        const client = Reflect.get(target, prop, receiver) as { reserve(): Promise<object> };
        return new Proxy(client, {
          get: (c, p, r) => (p === 'reserve' ? async () => stamping(await c.reserve()) : Reflect.get(c, p, r)),
        });
      }
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return (fn: (tx: unknown) => Promise<unknown>, config?: unknown) =>
        target.transaction(async (tx) => {
          const result = await fn(tx);
          t0 = now();
          return result;
        }, config as never);
    },
  });
  const ctx: DomainContext = { db, sink: { changed: (c) => transport.publish(c) }, now: () => new Date(), hooks: [] };
  return { ctx, principal: openPrincipal('test'), lastCommit: () => t0, close: () => database.close() };
}

export interface SseHandle {
  /** Resolves when the response headers arrived (the subscription is registered server-side by then). */
  opened: Promise<void>;
  close(): void;
}

/**
 * A lean graphql-sse (distinct connections) subscriber on a raw socket: calls `onNext` with each `next` payload's
 * text. One TCP connection per subscription, as real clients hold them.
 */
export function sse(
  base: string,
  query: string,
  variables: Record<string, unknown>,
  onNext: (data: string, at: number) => void,
  onEnd?: () => void,
): SseHandle {
  const url = new URL(`${base}/graphql/stream`);
  const body = JSON.stringify({ query, variables });
  let resolveOpened: () => void = () => {};
  let rejectOpened: (e: unknown) => void = () => {};
  const opened = new Promise<void>((res, rej) => {
    resolveOpened = res;
    rejectOpened = rej;
  });
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'content-length': Buffer.byteLength(body),
      },
    },
    (res) => {
      if (res.statusCode !== 200) {
        rejectOpened(new Error(`subscription answered ${res.statusCode}`));
        res.resume();
        return;
      }
      resolveOpened();
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = now();
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (block.startsWith('event: next')) {
            const data = block.slice(block.indexOf('data: ') + 6);
            onNext(data, at);
          }
        }
      });
      res.on('end', () => onEnd?.());
    },
  );
  req.on('error', (e) => rejectOpened(e));
  req.end(body);
  return { opened, close: () => req.destroy() };
}

/**
 * A `waitForExecution` over its own connection, on a raw socket like `sse` (node's HTTP client would add its own
 * parsing to every one of a thousand answers the measuring process reads). Resolves with the time the whole answer
 * had arrived; rejects on anything but a 200 with `"completed":true` or `false`.
 */
export function wait(base: string, id: string, timeout: number): Promise<number> {
  const body = JSON.stringify({
    query: 'query($id: ID!, $t: Float) { waitForExecution(id: $id, timeout: $t) { completed } }',
    variables: { id, t: timeout },
  });
  return rawPost(base, '/graphql', body, { clock: now }).then(completed);
}

/** The same wait through seed 000's REST endpoint (`POST /api/v1/executions/{id}/wait`). */
export function waitRest(base: string, id: string, timeout: number): Promise<number> {
  return rawPost(base, `/api/v1/executions/${id}/wait`, JSON.stringify({ timeout }), { clock: now }).then(completed);
}

/** The arrival time of a wait's answer that is a 200 saying whether the wait completed; rejects on anything else. */
export function completed(answer: { at: number; text: string }): number {
  if (answer.text.startsWith('HTTP/1.1 200') && /"completed":(true|false)/.test(answer.text)) return answer.at;
  throw new Error(`unexpected answer: ${answer.text.slice(0, 300)}`);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
