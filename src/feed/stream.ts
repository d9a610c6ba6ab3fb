import { Repeater } from '@repeaterjs/repeater';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import { requireLive, requireScope } from '../domain/access.js';
import { EVENT_PAGE, readEvents } from '../domain/events.js';
import { getExecution, parseFilter } from '../domain/executions.js';
import { parse, waitTimeoutSeconds } from '../domain/inputs.js';
import { EVENT_TYPES, type EventType, type Execution, type ExecutionEvent, isTerminal } from '../domain/types.js';
import type { ChangeFeed, ExecutionListener } from './feed.js';
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
  /**
   * While the stored events are replayed: a promise when the consumer has much unread (the replay waits for it),
   * null when it may go on. A replay of a long run (100,000 log lines) is thus paced by its reader instead of
   * overrunning the stream's bound; live events are not paced (a consumer that falls behind them is ended).
   */
  pressure?(): Promise<void> | null;
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
  const { types, wanted } = typeSetOf(parse(typesInput, options.types, ['types']));
  requireLive(principal);
  claim(feed, 'streams')(); // refuse now when at capacity; the slot is held while the stream runs
  // Only what the stream needs of the row: a long-lived closure should not hold the whole execution.
  const { lastSequence, status } = await getExecution(db, principal, executionId);
  const terminalAlready = isTerminal(status);
  return (sink) => {
    const run = new EventRun(feed, db, principal, executionId, sink, after, lastSequence, types, wanted);
    run.start(timeout, terminalAlready);
    return run.finish;
  };
}

/** A `types` argument's list and set, one pair per distinct set of types, shared by every stream that asks for it. */
const typeSets = new Map<string, { types: EventType[]; wanted: Set<EventType> }>();
function typeSetOf(listed: readonly EventType[] | null | undefined): {
  types: EventType[] | null;
  wanted: Set<EventType> | null;
} {
  if (!listed) return { types: null, wanted: null };
  const types = [...new Set(listed)].sort();
  const key = types.join();
  let known = typeSets.get(key);
  if (!known) {
    known = { types, wanted: new Set(types) }; // at most one entry per subset of EVENT_TYPES
    typeSets.set(key, known);
  }
  return known;
}

/** Ends a run at its timeout (one function for every run: the timer carries the run as its argument). */
function timedOut(run: EventRun): void {
  run.finish();
}

/**
 * One started event stream: a single object per subscriber (it is the feed listener too; methods on the
 * prototype), so a held stream keeps no chain of closures over the request that opened it.
 */
class EventRun implements ExecutionListener {
  private replaying = true;
  private buffered: ExecutionEvent[] = [];
  private chain: Promise<void> | null = null;
  private queued = 0;
  private done = false;
  private timer: NodeJS.Timeout | null = null;
  private detach: (() => void) | null = null;
  private readonly release: () => void;
  /** Ends the stream (the cancel handed back, the revocation listener): bound once. */
  readonly finish = (): void => this.stop();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly db: Executor,
    private readonly principal: Principal,
    private readonly executionId: string,
    private readonly sink: StreamSink<ExecutionEvent>,
    private cursor: number,
    private readonly lastSequence: number,
    private readonly types: EventType[] | null,
    private readonly wanted: Set<EventType> | null,
  ) {
    this.release = claim(feed, 'streams');
  }

  start(timeoutSeconds: number, terminalAlready: boolean): void {
    this.timer = setTimeout(timedOut, timeoutSeconds * 1000, this);
    this.principal.signal?.addEventListener('abort', this.finish, { once: true });
    this.detach = this.feed.attach(this.executionId, this, this.lastSequence);
    void this.replay(terminalAlready);
  }

  private stop(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.principal.signal?.removeEventListener('abort', this.finish);
    this.detach?.();
    this.detach = null;
    this.release();
    this.sink.end();
  }

  /** The feed's live events. */
  events(events: readonly ExecutionEvent[]): void {
    if (this.replaying) this.buffered.push(...events);
    else this.enqueue(events);
  }

  /** The feed is shutting down. */
  closed(): void {
    this.stop();
  }

  /** With `types`, the cursor still passes every sequence: the others are skipped, and the terminal one ends it. */
  private emit(e: ExecutionEvent): void {
    if (this.done) return;
    this.cursor = e.sequence;
    const { wanted } = this;
    if ((wanted && !wanted.has(e.type) ? false : !this.sink.item(e)) || isTerminalEvent(e)) this.stop();
  }

  /** Emits events past the cursor in order, reading any gap from the table first (never expected, cheap to guard). */
  private async deliver(events: readonly ExecutionEvent[]): Promise<void> {
    for (const e of events) {
      if (this.done) return;
      if (e.sequence <= this.cursor) continue;
      while (e.sequence > this.cursor + 1 && !this.done) {
        const missing = await readEvents(
          this.db,
          this.executionId,
          this.cursor,
          EVENT_PAGE,
          e.sequence - 1,
          this.types,
        );
        if (missing.length === 0) break;
        for (const m of missing) this.emit(m);
      }
      this.emit(e);
    }
  }

  private enqueue(events: readonly ExecutionEvent[]): void {
    const first = events.find((e) => e.sequence > this.cursor);
    if (this.queued === 0 && (!first || first.sequence === this.cursor + 1)) {
      for (const e of events) if (e.sequence > this.cursor) this.emit(e); // the common case: contiguous, nothing queued
      return;
    }
    this.queued += 1;
    const chained = (this.chain ?? Promise.resolve())
      .then(() => this.deliver(events))
      .catch(this.finish) // a failed read ends it; the client re-attaches
      .finally(() => {
        this.queued -= 1;
        if (this.chain === chained) this.chain = null;
      });
    this.chain = chained;
  }

  private async replay(terminalAlready: boolean): Promise<void> {
    try {
      for (;;) {
        const page = await readEvents(this.db, this.executionId, this.cursor, EVENT_PAGE, undefined, this.types);
        for (const e of page) {
          this.emit(e);
          const paced = this.sink.pressure?.();
          if (paced) await paced;
          if (this.done) break;
        }
        if (page.length < EVENT_PAGE || this.done) break;
      }
      if (terminalAlready) this.stop();
      // Everything up to the sequence read before the replay is committed and was replayed (or is not among the
      // types), so live events that follow it are not mistaken for a gap.
      if (this.cursor < this.lastSequence) this.cursor = this.lastSequence;
      this.replaying = false;
      const pending = this.buffered;
      this.buffered = [];
      this.enqueue(pending);
    } catch {
      this.stop();
    }
  }
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
    let drained: (() => void) | null = null;
    const cancel = start({
      item: (value) => {
        backlog += 1;
        void push(value).then(() => {
          backlog -= 1;
          if (drained && backlog <= MAX_BACKLOG / 2) {
            drained();
            drained = null;
          }
        });
        return backlog <= MAX_BACKLOG;
      },
      end: () => {
        drained?.();
        stop();
      },
      pressure: () =>
        backlog <= MAX_BACKLOG / 2
          ? null
          : new Promise<void>((resolve) => {
              drained = resolve;
            }),
    });
    await stop;
    cancel();
  });
}
