import { reattachDelay, type VigilApiError, type VigilClient } from '../../client/client.js';
import type { Filter } from '../../client/run-model.js';
import { ChangesCursor, type ListPage, RunChanges, RunList, type RunSummary } from '../../client/sdk/dashboard.js';
import { query, subscribe } from '../../client/sdk/transport.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export type { ListPage } from '../../client/sdk/dashboard.js';

export interface ChangesFeedHandlers {
  /** A first page read (at the start, or again after an expired cursor): it replaces whatever was loaded. */
  loaded(page: ListPage): void;
  /** Executions in their current state, each after a change (a burst arrives as one call). */
  changed(items: RunSummary[]): void;
  connection(state: Connection): void;
  /** The feed stopped on a refusal (access, a bad filter); `null` once a read or the stream works again. */
  failed(error: VigilApiError | null): void;
}

/**
 * The part of the list's filter the server filters the feed by: what an execution can never change (workflow,
 * id, created time, parent). Status and tags do change, and `executionChanges` (API.md §9) sends only executions
 * that match its filter after the change, so a run that leaves a status or tag filter would never be heard of;
 * those two are applied in memory (`matches`) to every change the feed sends.
 */
export function feedFilter(filter: Filter): Filter {
  const { status: _status, tags: _tags, ...fixed } = filter;
  return fixed;
}

/** Rows per page of the list. */
export const PAGE = 50;

/** Rows applied at once: a replay of thousands of changes redraws the list a few times, not once per change. */
const FLUSH_MS = 50;

/** At most one re-read of the list per this long for refused cursors. */
const REREAD_MS = 60_000;

/**
 * The list's one live source (API.md §9): the first page of `filter` is read once, right after
 * `executionChangesCursor`, then `executionChanges(after: cursor)` replays what changed since that cursor (so no
 * change falls between the read and the subscription) and goes on live. Every change moves the cursor; when the
 * stream ends (dropped connection, server restart or shutdown, backpressure) it subscribes again from the last
 * cursor, so the changes it missed are replayed and the list is never read again. The one exception is a cursor
 * the server no longer accepts (VALIDATION_FAILED: its changes were pruned after `VIGIL_CHANGES_RETENTION_HOURS`,
 * or the database is another one): then it takes a new cursor and re-reads the first page.
 *
 * `stop()` keeps the cursor: `start()` again (the list shown again after a detail) resumes from it.
 */
export class ChangesFeed {
  private cursor: string | null = null;
  private running = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dispose: () => void = () => {};
  /** Bumped on every start and stop, so an answer to an older run is ignored. */
  private generation = 0;
  private pending: RunSummary[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the list was last re-read for a refused cursor: a fresh cursor refused again is not re-read in a loop. */
  private rereadAt = 0;

  constructor(
    private readonly client: VigilClient,
    private readonly filter: Filter,
    private readonly handlers: ChangesFeedHandlers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.handlers.connection('connecting');
    this.next();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.dispose();
    this.dispose = () => {};
    this.flush();
  }

  private next(): void {
    if (this.cursor === null) void this.read();
    else this.subscribe(this.cursor);
  }

  /** The cursor first, then the page: a change committed between the two is replayed by the stream, not lost. */
  private async read(): Promise<void> {
    const generation = this.generation;
    try {
      const { executionChangesCursor: cursor } = await query(this.client, ChangesCursor, {});
      if (generation !== this.generation) return;
      const r = await query(this.client, RunList, { filter: this.filter, first: PAGE });
      if (generation !== this.generation) return;
      this.cursor = cursor;
      this.pending = [];
      this.handlers.loaded(r.executions);
      this.handlers.failed(null);
      this.subscribe(cursor);
    } catch (err) {
      if (generation !== this.generation) return;
      this.fail(err as VigilApiError);
    }
  }

  private subscribe(after: string): void {
    const generation = this.generation;
    const current = () => generation === this.generation;
    this.dispose = subscribe(
      this.client,
      RunChanges,
      { filter: feedFilter(this.filter), after },
      {
        connected: () => {
          if (!current()) return;
          this.attempt = 0;
          this.handlers.connection('live');
          this.handlers.failed(null);
        },
        next: ({ executionChanges: change }) => {
          if (!current()) return;
          this.cursor = change.cursor;
          this.pending.push(change.execution);
          this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
        },
        error: (e) => {
          if (current()) this.fail(e);
        },
        complete: () => {
          if (current()) this.retry();
        },
      },
    );
  }

  private fail(e: VigilApiError): void {
    if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') {
      this.handlers.failed(e);
      this.stop();
      return;
    }
    // The cursor is refused (expired, or not one this database issued): re-reading the list is the only way to
    // know the executions as they are now, so this, and only this, reads the first page again.
    if (e.code === 'VALIDATION_FAILED' && this.cursor !== null && Date.now() - this.rereadAt > REREAD_MS) {
      this.rereadAt = Date.now();
      this.cursor = null;
      this.generation++;
      this.dispose();
      this.next();
      return;
    }
    // Refusals of the request itself stop here and say so; anything else (no connection, a restart, capacity) is
    // retried quietly from the cursor, the list showing "reconnecting…" meanwhile.
    if (e.code === 'VALIDATION_FAILED' || e.code === 'GRAPHQL') {
      this.handlers.failed(e);
      this.stop();
    } else this.retry();
  }

  private retry(): void {
    this.flush();
    if (!this.running) return;
    this.generation++;
    this.dispose();
    this.handlers.connection('reconnecting');
    const generation = this.generation;
    this.timer = setTimeout(
      () => {
        if (generation === this.generation) this.next();
      },
      reattachDelay(this.attempt++, 5000),
    );
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.handlers.changed(items);
  }
}
