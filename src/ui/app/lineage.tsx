import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { VigilApiError, VigilClient } from '../../client/client.js';
import { elapsedMs } from '../../client/documents.js';
import {
  Attempt,
  type AttemptLink,
  Children as ChildrenQuery,
  type RunSummary,
  RunUpdated,
} from '../../client/sdk/dashboard.js';
import { query, subscribe } from '../../client/sdk/transport.js';
import { newer } from './live.js';
import { TagList } from './tags.js';
import { age, Duration, StatusBadge } from './widgets.js';

/** The end of an id: uuidv7 ids begin with their creation time, so runs made together share their first digits. */
export const shortId = (id: string) => `…${id.slice(-8)}`;
const PAGE = 20;
/** Chains longer than this are shown to this length (each link is one small read). */
const MAX_CHAIN = 25;

/**
 * Every attempt of the run this execution belongs to: walked up through `retryOf` to the first attempt and down
 * through `retries` to the latest, "attempt 2 of 3 · retry of …" with a link to each.
 */
export function Attempts({
  client,
  id,
  retryOf,
  version,
}: {
  client: VigilClient;
  id: string;
  retryOf: string | null;
  version: number;
}) {
  const [chain, setChain] = useState<AttemptLink[] | null>(null);
  useEffect(() => {
    let stop = false;
    const get = async (x: string) => (await query(client, Attempt, { id: x })).execution;
    (async () => {
      const self = await get(id);
      if (!self) return;
      const up: AttemptLink[] = [];
      for (let at = self.retryOf; at && up.length < MAX_CHAIN; ) {
        const e = await get(at);
        if (!e) break;
        up.unshift(e);
        at = e.retryOf;
      }
      const down: AttemptLink[] = [];
      for (let next = self.retries.at(-1); next && down.length < MAX_CHAIN; ) {
        down.push(next);
        next = (await get(next.id))?.retries.at(-1);
      }
      if (!stop) setChain([...up, self, ...down]);
    })().catch(() => {});
    return () => {
      stop = true;
    };
  }, [client, id, retryOf, version]);
  if (!chain || chain.length < 2) return null;
  const self = chain.find((a) => a.id === id);
  const previous = chain[chain.findIndex((a) => a.id === id) - 1];
  return (
    <div class="attempts" data-testid="attempts">
      <p>
        <strong data-testid="attempt-of">
          attempt {self?.attempt} of {chain.at(-1)?.attempt}
        </strong>
        {previous && (
          <>
            {' · retry of '}
            <a href={`#/executions/${previous.id}`} data-testid="retry-of">
              attempt {previous.attempt} <code>{shortId(previous.id)}</code>
            </a>
          </>
        )}
      </p>
      <ol class="chain" aria-label="Attempts">
        {chain.map((a) => (
          <li key={a.id} aria-current={a.id === id ? 'page' : undefined}>
            {a.id === id ? (
              <span>#{a.attempt}</span>
            ) : (
              <a href={`#/executions/${a.id}`} data-testid="attempt-link">
                #{a.attempt}
              </a>
            )}{' '}
            <StatusBadge status={a.status} />
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The executions this one started, newest first, a page at a time, kept live by an `executionUpdated` stream. */
export function Children({
  client,
  id,
  now,
  onAccessError,
}: {
  client: VigilClient;
  id: string;
  now: number;
  onAccessError(e: VigilApiError): void;
}) {
  const [byId, setById] = useState<Map<string, RunSummary>>(new Map());
  const [page, setPage] = useState<{ hasNextPage: boolean; endCursor: string | null }>({
    hasNextPage: false,
    endCursor: null,
  });
  const [loaded, setLoaded] = useState(false);
  const firstRead = useRef(false);
  const accessError = useRef(onAccessError);
  accessError.current = onAccessError;
  const upsert = useCallback((list: RunSummary[]) => {
    setById((prev) => {
      const next = new Map(prev);
      for (const e of list) if (newer(next.get(e.id), e)) next.set(e.id, e);
      return next;
    });
  }, []);
  const load = useCallback(
    async (after: string | null) => {
      try {
        const r = await query(client, ChildrenQuery, { id, first: PAGE, after });
        if (!r.execution) return;
        upsert(r.execution.children.nodes);
        // a later first page (none is read again today) would not move the cursor of pages already loaded
        if (after !== null || !firstRead.current) setPage(r.execution.children.pageInfo);
        firstRead.current = true;
        setLoaded(true);
      } catch (err) {
        const e = err as VigilApiError;
        if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') accessError.current(e);
      }
    },
    [client, id, upsert],
  );
  useEffect(() => {
    void load(null);
  }, [load]);
  useEffect(
    () =>
      subscribe(
        client,
        RunUpdated,
        { filter: { parentExecutionId: id } },
        { next: (d) => upsert([d.executionUpdated]), error: () => {}, complete: () => {} },
      ),
    [client, id, upsert],
  );
  const items = [...byId.values()].sort((a, b) =>
    a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
  );
  if (!loaded || items.length === 0) return null;
  return (
    <>
      <h2>
        Children{' '}
        <small>
          {items.length}
          {page.hasNextPage ? '+' : ''}
        </small>
      </h2>
      <ol class="children" data-testid="children">
        {items.map((c) => (
          <li key={c.id} data-id={c.id} data-status={c.status}>
            <StatusBadge status={c.status} />
            <a href={`#/executions/${c.id}`} class="wf">
              {c.workflowId}
            </a>
            {c.attempt > 1 && <small>attempt {c.attempt}</small>}
            <TagList tags={c.tags} limit={3} />
            <small class="when">
              {age(c.createdAt, now)} · <Duration ms={elapsedMs(c, now)} />
            </small>
          </li>
        ))}
      </ol>
      {page.hasNextPage && (
        <button type="button" class="more" onClick={() => void load(page.endCursor)}>
          More children
        </button>
      )}
    </>
  );
}
