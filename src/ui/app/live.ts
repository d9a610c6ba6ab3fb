import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { reattachDelay, type VigilApiError, type VigilClient } from '../../client/client.js';
import type { ExecutionSummary } from '../../client/documents.js';
import {
  type Filter,
  matches,
  RUN_LIST,
  RUN_UPDATED,
  type RunListResult,
  type RunSummary,
  type RunUpdatedResult,
} from '../../client/run-model.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

const PAGE = 50;

/** The current time, re-read every `ms` to redraw ages and running durations (no network involved). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** Newer wins: the execution with the higher event sequence (changes without events compare by updatedAt). */
export function newer(a: ExecutionSummary | undefined, b: ExecutionSummary): boolean {
  if (!a) return true;
  if (b.lastSequence !== a.lastSequence) return b.lastSequence > a.lastSequence;
  return b.updatedAt >= a.updatedAt;
}

const byNewest = (a: ExecutionSummary, b: ExecutionSummary) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

export interface LiveExecutions {
  /** Newest first, only those matching the filter. */
  items: RunSummary[];
  byId: ReadonlyMap<string, RunSummary>;
  /** How many changes the stream has delivered (the counts and overview re-read, throttled, when it moves). */
  changes: number;
  loading: boolean;
  error: VigilApiError | null;
  hasMore: boolean;
  loadMore(): void;
  connection: Connection;
}

/**
 * The executions list, kept live by one `executionUpdated` subscription (unfiltered, so an execution that leaves
 * the filter is seen to leave it; the filter is applied in memory with `matches`). The first page is read at once,
 * and again each time the stream (re)opens, so a change missed while disconnected is picked up. `active: false`
 * closes the stream (the detail view has its own): browsers allow only six HTTP/1.1 connections per server across
 * all tabs. Coming back (active again) with the same filter keeps every loaded page and merges the first one.
 */
export function useLiveExecutions(
  client: VigilClient,
  filter: Filter,
  onAccessError: (e: VigilApiError) => void,
  active: boolean,
): LiveExecutions {
  const [byId, setById] = useState<Map<string, RunSummary>>(new Map());
  const [page, setPage] = useState<{ hasNextPage: boolean; endCursor: string | null; oldest: RunSummary | null }>({
    hasNextPage: false,
    endCursor: null,
    oldest: null,
  });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<VigilApiError | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [epoch, setEpoch] = useState(0);
  const accessError = useRef(onAccessError);
  accessError.current = onAccessError;
  const [changes, setChanges] = useState(0);
  const filterKey = JSON.stringify(filter);
  /** The filter whose pages byId holds: a first page for another one replaces them, for the same one merges. */
  const loadedKey = useRef<string | null>(null);

  const upsert = useCallback((list: RunSummary[], reset: boolean) => {
    setById((prev) => {
      const next = reset ? new Map<string, RunSummary>() : new Map(prev);
      for (const e of list) if (newer(next.get(e.id), e)) next.set(e.id, e);
      if (reset) for (const [id, e] of prev) if (next.has(id) && newer(next.get(id), e)) next.set(id, e);
      return next;
    });
  }, []);

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dispose = () => {};
    const retry = () => {
      if (stopped) return;
      setConnection('reconnecting');
      timer = setTimeout(connect, reattachDelay(attempt++, 10_000));
    };
    const connect = () => {
      dispose = client.subscribe<RunUpdatedResult>(
        RUN_UPDATED,
        {},
        {
          connected: () => {
            attempt = 0;
            setConnection('live');
            setEpoch((n) => n + 1);
          },
          next: (d) => {
            upsert([d.executionUpdated], false);
            setChanges((n) => n + 1);
          },
          error: (e) => {
            if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') accessError.current(e);
            else retry();
          },
          complete: retry,
        },
      );
    };
    setConnection('connecting');
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      dispose();
    };
  }, [client, upsert, active]);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const reset = after === null && loadedKey.current !== filterKey;
        const r = await client.request<RunListResult>(RUN_LIST, { filter: JSON.parse(filterKey), first: PAGE, after });
        const nodes = r.executions.nodes;
        upsert(nodes, reset);
        loadedKey.current = filterKey;
        // a first page read again over loaded older pages leaves their cursor in place
        if (reset || after !== null)
          setPage((p) => ({
            hasNextPage: r.executions.pageInfo.hasNextPage,
            endCursor: r.executions.pageInfo.endCursor,
            oldest: nodes.at(-1) ?? (reset ? null : p.oldest),
          }));
        setError(null);
      } catch (err) {
        const e = err as VigilApiError;
        if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') accessError.current(e);
        setError(e);
      } finally {
        setLoading(false);
      }
    },
    [client, filterKey, upsert],
  );

  // The first page: at once, then again after each (re)connect of the stream (epoch).
  useEffect(() => {
    if (active) void load(null);
  }, [load, epoch, active]);

  const loadMore = useCallback(() => {
    if (page.endCursor) void load(page.endCursor);
  }, [load, page.endCursor]);

  const oldest = page.hasNextPage ? page.oldest : null;
  const items = [...byId.values()]
    .filter((e) => matches(e, filter))
    // past the loaded pages a live update would show out of place; "Load more" brings those in order
    .filter((e) => !oldest || byNewest(e, oldest) <= 0)
    .sort(byNewest);
  return { items, byId, changes, loading, error, hasMore: page.hasNextPage, loadMore, connection };
}
