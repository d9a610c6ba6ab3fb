import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { VigilApiError, VigilClient } from '../../client/client.js';
import { type Filter, matches } from '../../client/run-model.js';
import { RunList, type RunSummary } from '../../client/sdk/dashboard.js';
import { query } from '../../client/sdk/transport.js';
import { ChangesFeed, type Connection, type ListPage, PAGE } from './changes-feed.js';

export type { Connection } from './changes-feed.js';

/** The current time, re-read every `ms` to redraw ages and running durations (no network involved). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

type Recency = Pick<RunSummary, 'lastSequence' | 'updatedAt'>;

/** Newer wins: the execution with the higher event sequence (changes without events compare by updatedAt). */
export function newer(a: Recency | undefined, b: Recency): boolean {
  if (!a) return true;
  if (b.lastSequence !== a.lastSequence) return b.lastSequence > a.lastSequence;
  return b.updatedAt >= a.updatedAt;
}

const byNewest = (a: RunSummary, b: RunSummary) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

export interface LiveExecutions {
  /** Newest first, only those matching the filter. */
  items: RunSummary[];
  byId: ReadonlyMap<string, RunSummary>;
  /**
   * How many changes the feed has delivered. The counts and the overview are re-read (throttled, at most every 2 s)
   * when it moves, not computed from the feed: a count needs every execution's previous status, which the list
   * does not hold for the ones it has not loaded.
   */
  changes: number;
  loading: boolean;
  error: VigilApiError | null;
  hasMore: boolean;
  loadMore(): void;
  connection: Connection;
}

interface PageState {
  hasNextPage: boolean;
  endCursor: string | null;
  oldest: RunSummary | null;
}

/**
 * The executions list, kept live by one `executionChanges` subscription (`ChangesFeed`): the first page is read
 * once per filter, and a dropped connection or a server restart resumes from the feed's cursor (the missed changes
 * are replayed; the list is not read again). `active: false` closes the stream (the detail view has its own:
 * browsers allow only six HTTP/1.1 connections per server across all tabs); coming back with the same filter
 * resumes from the cursor, keeping every loaded page.
 */
export function useLiveExecutions(
  client: VigilClient,
  filter: Filter,
  onAccessError: (e: VigilApiError) => void,
  active: boolean,
): LiveExecutions {
  const [byId, setById] = useState<Map<string, RunSummary>>(new Map());
  const [page, setPage] = useState<PageState>({ hasNextPage: false, endCursor: null, oldest: null });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<VigilApiError | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [changes, setChanges] = useState(0);
  const accessError = useRef(onAccessError);
  accessError.current = onAccessError;
  const filterKey = JSON.stringify(filter);

  const report = useCallback((e: VigilApiError | null) => {
    if (e && (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN')) accessError.current(e);
    setError(e);
  }, []);

  // One feed per client and filter; it outlives `active` (its cursor is where the list resumes).
  const feed = useMemo(
    () =>
      new ChangesFeed(client, JSON.parse(filterKey) as Filter, {
        loaded: (p: ListPage) => {
          setById(new Map(p.nodes.map((e) => [e.id, e])));
          setPage({
            hasNextPage: p.pageInfo.hasNextPage,
            endCursor: p.pageInfo.endCursor,
            oldest: p.nodes.at(-1) ?? null,
          });
          setLoading(false);
        },
        changed: (list) => {
          setById((prev) => {
            const next = new Map(prev);
            for (const e of list) if (newer(next.get(e.id), e)) next.set(e.id, e);
            return next;
          });
          setChanges((n) => n + list.length);
        },
        connection: setConnection,
        failed: (e) => {
          report(e);
          if (e) setLoading(false);
        },
      }),
    [client, filterKey, report],
  );

  useEffect(() => {
    setLoading(true);
    return () => feed.stop();
  }, [feed]);

  useEffect(() => {
    if (!active) return;
    feed.start();
    return () => feed.stop();
  }, [feed, active]);

  const loadMore = useCallback(async () => {
    if (!page.endCursor) return;
    setLoading(true);
    try {
      const r = await query(client, RunList, {
        filter: JSON.parse(filterKey) as Filter,
        first: PAGE,
        after: page.endCursor,
      });
      const nodes = r.executions.nodes;
      setById((prev) => {
        const next = new Map(prev);
        for (const e of nodes) if (newer(next.get(e.id), e)) next.set(e.id, e);
        return next;
      });
      setPage((p) => ({
        hasNextPage: r.executions.pageInfo.hasNextPage,
        endCursor: r.executions.pageInfo.endCursor,
        oldest: nodes.at(-1) ?? p.oldest,
      }));
      report(null);
    } catch (err) {
      report(err as VigilApiError);
    } finally {
      setLoading(false);
    }
  }, [client, filterKey, page.endCursor, report]);

  const oldest = page.hasNextPage ? page.oldest : null;
  const items = [...byId.values()]
    .filter((e) => matches(e, filter))
    // past the loaded pages a live update would show out of place; "Load more" brings those in order
    .filter((e) => !oldest || byNewest(e, oldest) <= 0)
    .sort(byNewest);
  return {
    items,
    byId,
    changes,
    loading,
    error,
    hasMore: page.hasNextPage,
    loadMore: () => void loadMore(),
    connection,
  };
}
