import { createClient } from 'graphql-sse';
import { readSse } from './sse.js';

/** The three ways a client can subscribe (API.md §2): yoga's SSE at /graphql, graphql-sse at /graphql/stream in both modes. */
export const TRANSPORTS = ['yoga-sse', 'graphql-sse-distinct', 'graphql-sse-single'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface Result<T = Record<string, unknown>> {
  data?: T | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface Subscription<T> {
  /** Every result until the subscription completes (or `timeoutMs` passes). */
  results: AsyncIterableIterator<Result<T>>;
  close(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>>(
  baseUrl: string,
  transport: Transport,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  timeoutMs = 20_000,
): Subscription<T> {
  if (transport === 'yoga-sse') {
    const controller = new AbortController();
    const response = fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    response.catch(() => {}); // read below; an abort before then is not a failure
    const results = (async function* () {
      const res = await response;
      if (!res.headers.get('content-type')?.includes('text/event-stream')) {
        yield (await res.json()) as Result<T>;
        return;
      }
      for await (const m of readSse(res, timeoutMs)) {
        if (m.event === 'complete') return;
        if (m.event === 'next') yield JSON.parse(m.data) as Result<T>;
      }
    })();
    return {
      results,
      close: async () => {
        controller.abort();
        await results.return(undefined).catch(() => {});
      },
    };
  }
  const client = createClient({
    url: `${baseUrl}/graphql/stream`,
    singleConnection: transport === 'graphql-sse-single',
    retryAttempts: 0,
    headers,
  });
  const inner = client.iterate<T>({ query, variables });
  const timer = setTimeout(() => void inner.return?.(), timeoutMs);
  const results = (async function* () {
    try {
      for await (const r of inner) yield r as Result<T>;
    } catch (err) {
      const errors = Array.isArray(err) ? err : [{ message: String((err as Error)?.message ?? err) }];
      yield { errors } as Result<T>;
    } finally {
      clearTimeout(timer);
    }
  })();
  return {
    results,
    close: async () => {
      clearTimeout(timer);
      await inner.return?.();
      client.dispose();
    },
  };
}

/** Reads results until the subscription completes. */
export async function collect<T>(sub: Subscription<T>): Promise<Result<T>[]> {
  const out: Result<T>[] = [];
  for await (const r of sub.results) out.push(r);
  return out;
}

/** Reads exactly `n` results (or fewer, if it completes first), leaving the subscription open. */
export async function take<T>(sub: Subscription<T>, n: number): Promise<Result<T>[]> {
  const out: Result<T>[] = [];
  while (out.length < n) {
    const r = await sub.results.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}
