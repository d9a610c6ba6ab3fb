import { Repeater } from '@repeaterjs/repeater';
import type { Executor } from '../db/client.js';
import { type Principal, requireLive, requireScope } from '../domain/access.js';
import {
  type ChangeRow,
  type CursorCodec,
  comparePositions,
  cursorCodec,
  laterOf,
  type Position,
  readChangesWithHorizon,
  readFeedState,
  requireRetained,
} from '../domain/changes.js';
import { VigilError } from '../domain/errors.js';
import { parseFilter } from '../domain/executions.js';
import type { ExecutionFilter } from '../domain/inputs.js';
import type { Execution } from '../domain/types.js';
import {
  type Batch,
  type ChangeTail,
  type ExecutionChange,
  MAX_BACKLOG,
  PAGE,
  REPLAY_BACKLOG,
  REPLAY_STRETCH,
  type TailSubscriber,
  tailOf,
} from './change-tail.js';
import type { ChangeFeed } from './feed.js';
import { claim } from './limits.js';

export type { ExecutionChange } from './change-tail.js';

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
  /** The frontier read after joining: above it every row comes from the tail. */
  let needed: Position | null = null;
  /** The horizon of a prune that passed the tail before `needed` was read: a frontier below it lost rows. */
  let prunedTo: Position | null = null;
  const subscriber: TailSubscriber = {
    receive: (batch) => {
      if (done) return;
      if (replaying) buffered.push(batch);
      else live(batch);
    },
    closed: (error) => finish(error),
    needs: () => needed,
    prunedBefore: (horizon) => {
      prunedTo = prunedTo ? laterOf(prunedTo, horizon) : horizon;
    },
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
      needed = frontier;
      if (prunedTo && comparePositions(frontier, prunedTo) < 0)
        throw new VigilError(
          'SERVICE_UNAVAILABLE',
          'The change feed was pruned while this stream started; resume with your cursor',
          {
            retryAfter: 1,
          },
        );
      if (after) {
        requireRetained(after, state);
        sent = new Map();
        const page = async (from: Position) => {
          const { rows, horizon } = await readChangesWithHorizon(db, {
            after: from,
            below: frontier.xid,
            limit: PAGE,
            tenant: principal,
            filter,
          });
          // A prune that committed before this read may have taken rows from under it: refuse rather than skip. The
          // horizon comes from the rows' own statement (one snapshot: the rows it lacks are exactly those a prune
          // it sees took); a page with no row reads it on its own, after.
          requireRetained(from, horizon ? { ...state, horizon } : await readFeedState(db));
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
