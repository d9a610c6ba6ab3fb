import { Repeater } from '@repeaterjs/repeater';
import type { Executor } from '../db/client.js';
import { type Principal, requireLive, requireScope } from '../domain/access.js';
import {
  type ChangeRow,
  type CursorCodec,
  comparePositions,
  cursorCodec,
  type FeedState,
  laterOf,
  type Position,
  readChanges,
  readFeedState,
  readTail,
  requireRetained,
} from '../domain/changes.js';
import { VigilError } from '../domain/errors.js';
import { parseFilter } from '../domain/executions.js';
import { matchesFilter } from '../domain/filters.js';
import type { ExecutionFilter } from '../domain/inputs.js';
import type { Execution } from '../domain/types.js';
import type { ChangeFeed, FeedLogger } from './feed.js';
import { claim } from './limits.js';

/** API.md §9's `ExecutionChange`. */
export interface ExecutionChange {
  cursor: string;
  execution: Execution;
}

/** Rows the tail and a replay read at a time. */
const PAGE = 1000;
/** Changes a live consumer may leave unread before its stream is ended (it resumes with its cursor). */
const MAX_BACKLOG = 1000;
/** A replay waits for the consumer above this many unread changes, and goes on below half of it. */
const REPLAY_BACKLOG = 200;
/** A replay hands over this many changes at a time (one write), then asks whether the consumer keeps up. */
const REPLAY_STRETCH = 64;

/** One read of the tail: each execution once, at the position of its last row in the read, in position order. */
export interface Batch {
  items: ChangeRow[];
  /** Every row up to here has been read. */
  end: Position;
  /**
   * The items of a tenant that match a filter (`filterKey` names it), as changes with their cursors: worked out
   * (matched, signed, built) once per batch for every subscriber that asks the same, however many there are.
   */
  changesFor(principal: Principal, filter: ExecutionFilter | null, filterKey: string): readonly Matched[];
}

/** A batch's item as a subscriber receives it (the same object for every subscriber of its tenant and filter). */
export interface Matched {
  position: Position;
  change: ExecutionChange;
}

interface TailSubscriber {
  receive(batch: Batch): void;
  /** The tail cannot go on (shutdown, or its position was pruned): the stream ends. */
  closed(error?: VigilError): void;
}

/**
 * The process's one reader of the change log for live subscribers: on every commit the feed reports (local, or
 * another instance's NOTIFY, or the periodic re-check) it reads the final rows after its position once, with their
 * executions, and hands the same batch to every subscriber, which keeps what its tenant and filter match. It reads
 * only while someone subscribes, and reads again shortly while committed rows wait above the frontier (an older
 * transaction still runs: nothing notifies when it ends if it wrote no change).
 */
export class ChangeTail {
  private position: Position | null = null;
  private starting: Promise<Position> | null = null;
  private readonly subscribers = new Set<TailSubscriber>();
  private reading = false;
  private again = false;
  private retry: NodeJS.Timeout | null = null;
  private retryMs = 2;
  private readonly stopObserving: () => void;

  constructor(
    private readonly db: Executor,
    private readonly codec: CursorCodec,
    feed: ChangeFeed,
    private readonly log: FeedLogger,
  ) {
    this.stopObserving = feed.observe({ changed: () => this.wake(), closed: () => this.close() });
  }

  /** Adds a subscriber; resolves with the position from which it receives every batch. */
  async join(subscriber: TailSubscriber): Promise<Position> {
    this.subscribers.add(subscriber);
    if (this.position) return this.position;
    this.starting ??= readFeedState(this.db).then(
      (state) => {
        this.starting = null;
        this.position ??= state.frontier;
        return this.position;
      },
      (err) => {
        this.starting = null;
        throw err;
      },
    );
    try {
      return await this.starting;
    } catch (err) {
      this.subscribers.delete(subscriber);
      throw err;
    }
  }

  leave(subscriber: TailSubscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && !this.reading && !this.starting) this.position = null;
  }

  get size(): number {
    return this.subscribers.size;
  }

  wake(): void {
    if (!this.position || this.subscribers.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.read();
  }

  private async read(): Promise<void> {
    this.reading = true;
    let held = false;
    try {
      read: do {
        this.again = false;
        for (;;) {
          if (!this.position) break read;
          const from: Position = this.position;
          // One statement, its frontier and rows from one snapshot; when it finds nothing, the frontier is read on
          // its own and the rows below it read again (a later snapshot: rows committed meanwhile are below it).
          let { rows, state } = await readTail(this.db, from, PAGE);
          if (!state) {
            state = await readFeedState(this.db);
            if (this.position && comparePositions(from, state.horizon) >= 0)
              rows = await readChanges(this.db, { after: from, below: state.frontier.xid, limit: PAGE });
          }
          if (!this.position) break read;
          if (comparePositions(from, state.horizon) < 0) {
            this.fail(state);
            break read;
          }
          const end: Position = rows.length < PAGE ? laterOf(from, state.frontier) : (rows.at(-1)?.position ?? from);
          this.position = end;
          held = state.held;
          if (rows.length > 0) this.dispatch(batchOf(rows, end, this.codec));
          if (rows.length < PAGE) break;
        }
      } while (this.again && this.position);
    } catch (err) {
      this.log.warn({ err }, 'change log read failed; the next commit or re-check retries');
    } finally {
      this.reading = false;
      if (this.subscribers.size === 0) this.position = null;
    }
    if (held && this.position) this.retryHeld();
    else this.retryMs = 2;
  }

  /** Rows wait above the frontier: read again soon, backing off (2 ms to 100 ms) while the older transaction runs. */
  private retryHeld(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.wake();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, 100);
  }

  private dispatch(batch: Batch): void {
    for (const s of [...this.subscribers]) s.receive(batch);
  }

  private fail(state: FeedState): void {
    let error: VigilError | undefined;
    try {
      requireRetained(this.position ?? state.horizon, state);
    } catch (err) {
      error = err as VigilError;
    }
    this.log.warn({}, 'the change log was pruned past the live position; live change streams end');
    for (const s of [...this.subscribers]) s.closed(error);
    this.subscribers.clear();
    this.position = null;
  }

  close(): void {
    this.stopObserving();
    if (this.retry) clearTimeout(this.retry);
    for (const s of [...this.subscribers]) s.closed();
    this.subscribers.clear();
    this.position = null;
  }
}

/** Groups rows: each execution once, at its last row, in the order of those last rows. */
export function batchOf(rows: readonly ChangeRow[], end: Position, codec: CursorCodec): Batch {
  const last = new Map<string, ChangeRow>();
  for (const row of rows) {
    last.delete(row.execution.id);
    last.set(row.execution.id, row);
  }
  const items = [...last.values()];
  const matched = new Map<string, Matched[]>();
  return {
    items,
    end,
    changesFor(principal, filter, filterKey) {
      const key = `${principal.organizationId}\u0000${principal.environment}\u0000${filterKey}`;
      let changes = matched.get(key);
      if (!changes) {
        changes = [];
        for (const item of items) {
          const e = item.execution;
          if (e.organizationId !== principal.organizationId || e.environment !== principal.environment) continue;
          if (!matchesFilter(e, filter)) continue;
          changes.push({
            position: item.position,
            change: { cursor: codec.encode(principal, item.position), execution: e },
          });
        }
        matched.set(key, changes);
      }
      return changes;
    },
  };
}

const tails = new WeakMap<ChangeFeed, Promise<ChangeTail>>();

/** The tail of a feed, made on first use. */
export function tailOf(feed: ChangeFeed, db: Executor): Promise<ChangeTail> {
  let tail = tails.get(feed);
  if (!tail) {
    tail = cursorCodec(db).then((codec) => new ChangeTail(db, codec, feed, feed.log));
    tail.catch(() => tails.delete(feed));
    tails.set(feed, tail);
  }
  return tail;
}

/** Where a change stream's items go. */
export interface ChangeSink {
  /** False when the consumer cannot keep up (live): the stream then ends, and the client resumes with its cursor. */
  item(change: ExecutionChange): boolean;
  /**
   * The items handed over since the last flush are all there is for now (one live batch, or a stretch of the
   * replay): a sink that gathers items writes them now, in one piece. False when the consumer cannot keep up.
   */
  flush?(): boolean;
  /**
   * While replaying: a promise when the consumer is behind, resolved once it has caught up enough to go on; null
   * when it may go on. The same pacing as an event stream's (`StreamSink.pressure`).
   */
  pressure?(): Promise<void> | null;
  /** The stream ends early with this error (its cursor expired during the replay). */
  fail(error: VigilError): void;
  end(): void;
}

export type ChangeStreamStart = (sink: ChangeSink) => () => void;

/** The current position as a cursor (API.md §9 `executionChangesCursor`): take it before a snapshot read. */
export async function currentCursor(db: Executor, principal: Principal): Promise<string> {
  requireScope(principal, 'executions:read');
  const [codec, state] = await Promise.all([cursorCodec(db), readFeedState(db)]);
  return codec.encode(principal, state.frontier);
}

/**
 * `executionChanges` (API.md §9). With `after`: every execution that changed after it, once each, in its current
 * state (read below a frontier fixed at the start, so the set is final and each state includes every change
 * replayed), then live changes from the tail, those at or below the replay's end dropped. Without: live changes from
 * the tail's position. Scope, filter, cursor (forged, expired) and capacity are checked before this resolves.
 */
export async function prepareChangeStream(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  args: { filter?: unknown; after?: string | null },
): Promise<ChangeStreamStart> {
  requireScope(principal, 'executions:read');
  requireLive(principal);
  const filter = parseFilter(args.filter);
  const codec = await cursorCodec(db);
  const after = args.after == null ? null : codec.decode(principal, args.after);
  if (after) requireRetained(after, await readFeedState(db));
  claim(feed, 'streams')();
  const tail = await tailOf(feed, db);
  return (sink) => follow(feed, tail, db, principal, filter, after, sink, codec);
}

function follow(
  feed: ChangeFeed,
  tail: ChangeTail,
  db: Executor,
  principal: Principal,
  filter: ExecutionFilter | null,
  after: Position | null,
  sink: ChangeSink,
  codec: CursorCodec,
): () => void {
  const release = claim(feed, 'streams');
  let done = false;
  let replaying = true;
  let position: Position = after ?? { xid: 0n, seq: 0n };
  let buffered: Batch[] = [];
  /** While the buffered batches drain: the lastSequence each replayed execution was sent with (none older goes). */
  let sent: Map<string, number> | null = null;
  const finish = (error?: VigilError) => {
    if (done) return;
    done = true;
    principal.signal?.removeEventListener('abort', onAbort);
    tail.leave(subscriber);
    release();
    if (error) sink.fail(error);
    else sink.end();
  };
  const onAbort = () => finish();
  const emit = (cursor: string, execution: Execution) => {
    if (!done && !sink.item({ cursor, execution })) finish();
  };
  const flush = () => {
    if (!done && sink.flush && !sink.flush()) finish();
  };
  const filterKey = JSON.stringify(filter);
  const live = (batch: Batch) => {
    for (const { position: at, change } of batch.changesFor(principal, filter, filterKey)) {
      if (done) return;
      if (comparePositions(at, position) <= 0) continue;
      const before = sent?.get(change.execution.id);
      if (before !== undefined && before > change.execution.lastSequence) continue;
      if (!sink.item(change)) finish();
    }
    position = laterOf(position, batch.end);
    flush();
  };
  const subscriber: TailSubscriber = {
    receive: (batch) => {
      if (done) return;
      if (replaying) buffered.push(batch);
      else live(batch);
    },
    closed: (error) => finish(error),
  };
  principal.signal?.addEventListener('abort', onAbort, { once: true });

  void (async () => {
    try {
      const joined = await tail.join(subscriber);
      if (done) return;
      // Read after joining: the tail delivers every row above `joined`, and this frontier is at or above it (it is
      // taken later), so the replay below it and the tail above `joined` leave no gap.
      const state = await readFeedState(db);
      const frontier = state.frontier;
      if (after) {
        requireRetained(after, state);
        sent = new Map();
        const page = async (from: Position) => {
          const rows = await readChanges(db, {
            after: from,
            below: frontier.xid,
            limit: PAGE,
            tenant: principal,
            filter,
          });
          // A prune that committed before this read may have taken rows from under it: refuse rather than skip.
          requireRetained(from, await readFeedState(db));
          return rows;
        };
        for (let next: Promise<ChangeRow[]> | null = page(position); next; ) {
          const rows: ChangeRow[] = await next;
          // The next page is read while this one is written (its start is known: this page's last row).
          const last = rows.at(-1);
          next = rows.length === PAGE && last ? page(last.position) : null;
          next?.catch(() => {}); // awaited on the next turn, unless this stream ends first
          for (const [i, row] of rows.entries()) {
            if (done) return;
            position = row.position;
            if (!sent.has(row.execution.id)) {
              sent.set(row.execution.id, row.execution.lastSequence);
              emit(codec.encode(principal, row.position), row.execution);
            }
            if (i % REPLAY_STRETCH === REPLAY_STRETCH - 1 || i === rows.length - 1) {
              flush();
              const behind = sink.pressure?.();
              if (behind) await behind;
            }
          }
          if (done) return;
        }
        position = laterOf(position, frontier);
      } else position = laterOf(joined, frontier); // live only: what committed before now is not sent
      replaying = false;
      const pending = buffered;
      buffered = [];
      for (const batch of pending) live(batch);
      sent = null;
    } catch (err) {
      finish(
        err instanceof VigilError
          ? err
          : new VigilError('SERVICE_UNAVAILABLE', 'The change feed could not be read; resume with your cursor', {
              retryAfter: 1,
            }),
      );
    }
  })();
  return () => finish();
}

/** prepareChangeStream as an async iterable (yoga, graphql-sse); the replay waits for the consumer. */
export async function openChangeStream(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  args: { filter?: unknown; after?: string | null },
): Promise<AsyncIterable<ExecutionChange>> {
  const start = await prepareChangeStream(feed, db, principal, args);
  return new Repeater<ExecutionChange>(async (push, stop) => {
    let backlog = 0;
    const waiting: { resume: (() => void) | null } = { resume: null };
    const cancel = start({
      item: (change) => {
        backlog += 1;
        void push(change).then(() => {
          backlog -= 1;
          if (waiting.resume && backlog <= REPLAY_BACKLOG / 2) {
            waiting.resume();
            waiting.resume = null;
          }
        });
        return backlog <= MAX_BACKLOG;
      },
      pressure: () =>
        backlog > REPLAY_BACKLOG
          ? new Promise<void>((r) => {
              waiting.resume = r;
            })
          : null,
      fail: (error) => stop(error),
      end: () => stop(),
    });
    await stop;
    waiting.resume?.();
    cancel();
  });
}
