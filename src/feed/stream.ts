import { Repeater } from '@repeaterjs/repeater';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import { requireLive, requireScope } from '../domain/access.js';
import { EVENT_PAGE, readEvents } from '../domain/events.js';
import { getExecution, parseFilter } from '../domain/executions.js';
import { parse, waitTimeoutSeconds } from '../domain/inputs.js';
import { EVENT_TYPES, type EventType, type Execution, type ExecutionEvent, isTerminal } from '../domain/types.js';
import type { ChangeFeed } from './feed.js';
import { claim } from './limits.js';

/** Events a slow consumer may leave unread before its stream is ended (it re-attaches with its cursor). */
const MAX_BACKLOG = 1000;

export const afterInput = z.int().min(0).nullish();
/** `executionEvents(types:)` (API.md §8): only these are delivered; null or absent, every type. */
export const typesInput = z
  .array(z.enum(EVENT_TYPES))
  .max(EVENT_TYPES.length * 4)
  .nullish();

export function isTerminalEvent(e: ExecutionEvent): boolean {
  return e.type === 'STATUS_CHANGED' && isTerminal(e.payload.to as Execution['status']);
}

/** Where a stream's items go. `item` returns false when the consumer cannot keep up: the stream then ends. */
export interface StreamSink<T> {
  item(value: T): boolean;
  end(): void;
}

/** Starts a checked stream into a sink; returns its cancel. */
export type StreamStart<T> = (sink: StreamSink<T>) => () => void;

export interface EventStreamOptions {
  after?: number | null;
  timeoutSeconds: number;
  /** Only these types are delivered (API.md §8); the stream still ends at the terminal event. */
  types?: readonly EventType[] | null;
}

/**
 * The events of one execution (API.md §2 `executionEvents`): first the stored ones with sequence > after, then live
 * ones, each exactly once and in order; it ends after the event that makes the execution terminal (at once after
 * the replay if it already is), at the timeout, on shutdown, when the key is revoked, or when the consumer falls
 * too far behind. Access, arguments, capacity and existence are checked before this resolves, so those errors
 * reach the caller, not the stream.
 */
export async function prepareEventStream(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  executionId: string,
  options: EventStreamOptions,
): Promise<StreamStart<ExecutionEvent>> {
  const timeout = parse(waitTimeoutSeconds, options.timeoutSeconds, ['timeout']);
  const after = parse(afterInput, options.after, ['after']) ?? 0;
  const listed = parse(typesInput, options.types, ['types']);
  const types = listed ? [...new Set(listed)] : null;
  const wanted = types ? new Set<EventType>(types) : null;
  requireLive(principal);
  claim(feed, 'streams')(); // refuse now when at capacity; the slot is held while the stream runs
  // Only what the stream needs of the row: a long-lived closure should not hold the whole execution.
  const { lastSequence, status } = await getExecution(db, principal, executionId);
  const terminalAlready = isTerminal(status);
  return (sink) => {
    const release = claim(feed, 'streams');
    let cursor = after;
    let replaying = true;
    let buffered: ExecutionEvent[] = [];
    let chain = Promise.resolve();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      principal.signal?.removeEventListener('abort', finish);
      detach();
      release();
      sink.end();
    };
    const timer = setTimeout(finish, timeout * 1000);
    principal.signal?.addEventListener('abort', finish, { once: true });

    // With `types`, the cursor still passes every sequence: the others are skipped, and the terminal one ends it.
    const emit = (e: ExecutionEvent) => {
      if (done) return;
      cursor = e.sequence;
      if ((wanted && !wanted.has(e.type) ? false : !sink.item(e)) || isTerminalEvent(e)) finish();
    };
    /** Emits events past the cursor in order, reading any gap from the table first (never expected, cheap to guard). */
    const deliver = async (events: readonly ExecutionEvent[]) => {
      for (const e of events) {
        if (done) return;
        if (e.sequence <= cursor) continue;
        while (e.sequence > cursor + 1 && !done) {
          const missing = await readEvents(db, executionId, cursor, EVENT_PAGE, e.sequence - 1, types);
          if (missing.length === 0) break;
          for (const m of missing) emit(m);
        }
        emit(e);
      }
    };
    let queued = 0;
    const enqueue = (events: readonly ExecutionEvent[]) => {
      const first = events.find((e) => e.sequence > cursor);
      if (queued === 0 && (!first || first.sequence === cursor + 1)) {
        for (const e of events) if (e.sequence > cursor) emit(e); // the common case: contiguous, nothing queued
        return;
      }
      queued += 1;
      chain = chain
        .then(() => deliver(events))
        .catch(finish) // a failed read ends it; the client re-attaches
        .finally(() => {
          queued -= 1;
        });
    };
    const detach = feed.attach(
      executionId,
      {
        events: (events) => {
          if (replaying) buffered.push(...events);
          else enqueue(events);
        },
        closed: finish,
      },
      lastSequence,
    );
    void (async () => {
      try {
        for (;;) {
          const page = await readEvents(db, executionId, cursor, EVENT_PAGE, undefined, types);
          for (const e of page) emit(e);
          if (page.length < EVENT_PAGE || done) break;
        }
        if (terminalAlready) finish();
        // Everything up to the sequence read before the replay is committed and was replayed (or is not among the
        // types), so live events that follow it are not mistaken for a gap.
        if (cursor < lastSequence) cursor = lastSequence;
        replaying = false;
        const pending = buffered;
        buffered = [];
        enqueue(pending);
      } catch {
        finish();
      }
    })();
    return finish;
  };
}

/** prepareEventStream as an async iterable (for yoga and graphql-sse); it ends when the consumer stops reading. */
export async function openEventStream(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  executionId: string,
  options: EventStreamOptions,
): Promise<AsyncIterable<ExecutionEvent>> {
  return toIterable(await prepareEventStream(feed, db, principal, executionId, options));
}

/**
 * Every change of the caller's executions that matches the filter (API.md §2 `executionUpdated`), until shutdown
 * or revocation. Checked (scope, filter, capacity) before it resolves.
 */
export function prepareUpdateStream(
  feed: ChangeFeed,
  principal: Principal,
  rawFilter: unknown,
): StreamStart<Execution> {
  requireScope(principal, 'executions:read');
  requireLive(principal);
  const filter = parseFilter(rawFilter);
  claim(feed, 'streams')();
  return (sink) => {
    const release = claim(feed, 'streams');
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      principal.signal?.removeEventListener('abort', finish);
      off();
      release();
      sink.end();
    };
    const off = feed.subscribeUpdates({
      principal,
      filter,
      execution: (e) => {
        if (!done && !sink.item(e)) finish();
      },
      closed: finish,
    });
    principal.signal?.addEventListener('abort', finish, { once: true });
    return finish;
  };
}

/**
 * prepareUpdateStream as an async iterable. Coalesces: a consumer that is behind gets the newest state of each
 * execution, not every intermediate one.
 */
export function openUpdateStream(feed: ChangeFeed, principal: Principal, rawFilter: unknown): AsyncIterable<Execution> {
  const start = prepareUpdateStream(feed, principal, rawFilter);
  return new Repeater<Execution>(async (push, stop) => {
    const pending = new Map<string, Execution>();
    let pumping = false;
    const pump = async () => {
      pumping = true;
      while (pending.size > 0) {
        const [id, e] = pending.entries().next().value as [string, Execution];
        pending.delete(id);
        await push(e);
      }
      pumping = false;
    };
    const cancel = start({
      item: (e) => {
        const seen = pending.get(e.id);
        if (!seen || seen.lastSequence <= e.lastSequence) pending.set(e.id, e);
        if (!pumping) void pump();
        return true;
      },
      end: () => stop(),
    });
    await stop;
    cancel();
  });
}

/** A started stream as a Repeater: nothing runs until the consumer reads, and returning from it cancels. */
function toIterable<T>(start: StreamStart<T>): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    let backlog = 0;
    const cancel = start({
      item: (value) => {
        backlog += 1;
        void push(value).then(() => {
          backlog -= 1;
        });
        return backlog <= MAX_BACKLOG;
      },
      end: () => stop(),
    });
    await stop;
    cancel();
  });
}
