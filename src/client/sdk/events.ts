import type { VigilApiError } from '../client.js';
import { ExecutionEvents } from './documents.js';
import type { ResultOf } from './graphql.js';
import { backoff, sleep, type Transport } from './transport.js';

export type ExecutionEvent = ResultOf<typeof ExecutionEvents>['executionEvents'];
export type ExecutionEventType = ExecutionEvent['type'];

export interface EventsOptions {
  /** Start after this sequence (the last one seen); all events when omitted. */
  after?: number;
  /** Only these types (sequences then skip the others); the stream still ends when the execution does. */
  types?: ExecutionEventType[];
  /** Seconds the server keeps the stream open while nothing happens (1..3600, default 300). */
  timeout?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Give up after this long without reaching the server again (ms); default 30 s. */
  retryForMs?: number;
}

type Item = { event: ExecutionEvent } | { end: true } | { error: VigilApiError };

/**
 * An execution's events (API.md §2 `executionEvents`): stored ones after `after`, then live ones, until the event
 * that ends the execution (or the server's timeout). After a dropped connection it subscribes again with `after` =
 * the last sequence it delivered, so nothing is lost or repeated.
 */
export async function* followEvents(
  transport: Transport,
  id: string,
  options: EventsOptions = {},
): AsyncGenerator<ExecutionEvent, void, undefined> {
  let cursor = options.after ?? 0;
  let failingSince: number | null = null;
  for (let attempt = 0; ; ) {
    const items: Item[] = [];
    let wake: (() => void) | null = null;
    const push = (item: Item) => {
      items.push(item);
      wake?.();
    };
    const onAbort = () => push({ end: true });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const dispose = transport.subscribe(
      ExecutionEvents,
      { id, after: cursor, timeout: options.timeout ?? null, types: options.types ?? null },
      {
        connected: () => {
          failingSince = null;
          attempt = 0;
        },
        next: (data) => push({ event: data.executionEvents }),
        error: (error) => push({ error }),
        complete: () => push({ end: true }),
      },
    );
    let failure: VigilApiError | null = null;
    try {
      for (;;) {
        if (options.signal?.aborted) return;
        const item = items.shift();
        if (!item) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
          continue;
        }
        if ('end' in item) return;
        if ('error' in item) {
          failure = item.error;
          break;
        }
        if (item.event.sequence <= cursor) continue;
        cursor = item.event.sequence;
        failingSince = null;
        yield item.event;
      }
    } finally {
      dispose();
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (failure.code !== 'CONNECTION') throw failure;
    failingSince ??= Date.now();
    if (Date.now() - failingSince > (options.retryForMs ?? 30_000)) throw failure;
    try {
      await sleep(backoff(attempt++), options.signal);
    } catch {
      return;
    }
  }
}
