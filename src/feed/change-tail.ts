import type { Executor } from '../db/client.js';
import type { Principal } from '../domain/access.js';
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
import type { VigilError } from '../domain/errors.js';
import { matchesFilter } from '../domain/filters.js';
import type { ExecutionFilter } from '../domain/inputs.js';
import { ownedBy } from '../domain/tenant.js';
import type { Execution } from '../domain/types.js';
import type { ChangeFeed, FeedLogger } from './feed.js';

/** API.md §9's `ExecutionChange`. */
export interface ExecutionChange {
  cursor: string;
  execution: Execution;
}

/** Rows the tail and a replay read at a time. */
export const PAGE = 1000;
/** Changes a live consumer may leave unread before its stream is ended (it resumes with its cursor). */
export const MAX_BACKLOG = 1000;
/** A replay waits for the consumer above this many unread changes, and goes on below half of it. */
export const REPLAY_BACKLOG = 200;
/** A replay hands over this many changes at a time (one write), then asks whether the consumer keeps up. */
export const REPLAY_STRETCH = 64;

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

export interface TailSubscriber {
  receive(batch: Batch): void;
  /** The tail cannot go on for it (shutdown, or rows it needed were pruned): the stream ends. */
  closed(error?: VigilError): void;
  /**
   * Above this it needs every row from the tail (the frontier it read after joining; below it, it replays or wants
   * nothing); null until it has read it.
   */
  needs(): Position | null;
  /**
   * A prune passed the tail's position before this subscriber read its frontier (`needs` was null): the rows below
   * `horizon` are gone. It goes on if the frontier it reads is at or above the horizon, and ends otherwise.
   */
  prunedBefore(horizon: Position): void;
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
          // One statement, its frontier and rows from one snapshot (the state comes back with no row too). Should
          // it come back without its state, the frontier is read on its own and the rows below it read again (a
          // later snapshot: rows committed meanwhile are below it).
          let { rows, state } = await readTail(this.db, from, PAGE);
          if (!state) {
            state = await readFeedState(this.db);
            if (this.position && comparePositions(from, state.horizon) >= 0)
              rows = await readChanges(this.db, { after: from, below: state.frontier.xid, limit: PAGE });
          }
          if (!this.position) break read;
          if (comparePositions(from, state.horizon) < 0) {
            this.pruned(state);
            continue;
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

  /**
   * A prune passed the tail's position (nothing was written for a while, so it had not moved): the rows it took may
   * be ones a subscriber never got. The subscribers that needed rows below the horizon end with the expired cursor's
   * error; one that joined later (its frontier at or above the horizon) loses nothing and goes on, the tail reading
   * on from the horizon. One that has not read its frontier yet is told the horizon and judges itself once it has.
   */
  private pruned(state: FeedState): void {
    let expired: VigilError | undefined;
    try {
      requireRetained(this.position ?? state.horizon, state);
    } catch (err) {
      expired = err as VigilError;
    }
    let ended = 0;
    for (const s of [...this.subscribers]) {
      const needs = s.needs();
      if (!needs) s.prunedBefore(state.horizon);
      if (!needs || comparePositions(needs, state.horizon) >= 0) continue;
      this.subscribers.delete(s);
      ended += 1;
      s.closed(expired);
    }
    if (ended > 0)
      this.log.warn({ ended }, 'the change log was pruned past the live position; the streams that needed it end');
    this.position = this.subscribers.size > 0 ? state.horizon : null;
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
          if (!ownedBy(principal, e)) continue;
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
