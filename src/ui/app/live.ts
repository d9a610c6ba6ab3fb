import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { reattachDelay, type VigilApiError, type VigilClient } from '../../client/client.js';
import { type ExecutionSummary, LIST, type ListResult, UPDATED, type UpdatedResult } from '../../client/documents.js';

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
  /** Newest first, only those matching the status filter. */
  items: ExecutionSummary[];
  byId: ReadonlyMap<string, ExecutionSummary>;
  loading: boolean;
  error: VigilApiError | null;
  hasMore: boolean;
  loadMore(): void;
  connection: Connection;
}

/**
 * The executions list, kept live by one `executionUpdated` subscription (unfiltered, so an execution that leaves
 * the filter is seen to leave it). The first page is read at once, and again each time the stream (re)opens, so a
 * change missed while disconnected is picked up. `active: false` closes the stream (the detail view has its own):
 * one stream per tab, since browsers allow only six HTTP/1.1 connections per server across all tabs.
 */
export function useLiveExecutions(
  client: VigilClient,
  statuses: readonly string[],
  onAccessError: (e: VigilApiError) => void,
  active: boolean,
): LiveExecutions {
  const [byId, setById] = useState<Map<string, ExecutionSummary>>(new Map());
  const [page, setPage] = useState<{ hasNextPage: boolean; endCursor: string | null; oldest: ExecutionSummary | null }>(
    { hasNextPage: false, endCursor: null, oldest: null },
  );
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<VigilApiError | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [epoch, setEpoch] = useState(0);
  const accessError = useRef(onAccessError);
  accessError.current = onAccessError;
  const filterKey = statuses.join(',');

  const upsert = useCallback((list: ExecutionSummary[], reset: boolean) => {
    setById((prev) => {
      const next = reset ? new Map<string, ExecutionSummary>() : new Map(prev);
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
      dispose = client.subscribe<UpdatedResult>(
        UPDATED,
        {},
        {
          connected: () => {
            attempt = 0;
            setConnection('live');
            setEpoch((n) => n + 1);
          },
          next: (d) => upsert([d.executionUpdated], false),
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
    async (after: string | null, reset: boolean) => {
      setLoading(true);
      try {
        const filter = filterKey ? { status: filterKey.split(',') } : null;
        const r = await client.request<ListResult>(LIST, { filter, first: PAGE, after });
        const nodes = r.executions.nodes;
        upsert(nodes, reset);
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
    if (active) void load(null, true);
  }, [load, epoch, active]);

  const loadMore = useCallback(() => {
    if (page.endCursor) void load(page.endCursor, false);
  }, [load, page.endCursor]);

  const wanted = filterKey ? new Set(filterKey.split(',')) : null;
  const oldest = page.hasNextPage ? page.oldest : null;
  const items = [...byId.values()]
    .filter((e) => !wanted || wanted.has(e.status))
    // past the loaded pages a live update would show out of place; "Load more" brings those in order
    .filter((e) => !oldest || byNewest(e, oldest) <= 0)
    .sort(byNewest);
  return { items, byId, loading, error, hasMore: page.hasNextPage, loadMore, connection };
}
