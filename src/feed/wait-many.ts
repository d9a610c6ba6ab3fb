import type { Executor } from '../db/client.js';
import { type Principal, requireLive, revokedError } from '../domain/access.js';
import type { Execution } from '../domain/types.js';
import { planWait, readWaitTargets, tooManyMatches, WaitSet } from '../domain/wait-many.js';
import type { ChangeFeed, ExecutionListener } from './feed.js';
import { claim } from './limits.js';
import type { CancelSignal } from './wait.js';

export interface ExecutionsWaitResult {
  /** True when the wait's condition holds; false when the timeout (or shutdown, or the client leaving) came first. */
  completed: boolean;
  /** In the order of `ids`, or newest first for a filter. */
  executions: Execution[];
  /** From receiving the request to answering. */
  durationMs: number;
  message: string;
}

/**
 * Waits on many executions (API.md §9): every one terminal (`ALL`; with a filter, once at least `expectedCount`
 * match) or the first (`ANY`). Pushed by the same change feed as `waitForExecution`: fixed ids attach to their
 * executions' hubs (one read per commit per process however many waits share them, and the hubs' periodic re-check
 * covers a lost notification); a filter listens to the tenant's changes, which the feed reads once per commit for
 * every listener, so executions created after the wait began join it. Nothing polls per waiter. One waiter slot
 * per call; shutdown, the client leaving and the timeout answer `completed: false` with the current states.
 */
export async function waitForExecutions(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  raw: unknown,
  signal?: CancelSignal,
): Promise<ExecutionsWaitResult> {
  const started = performance.now();
  const plan = planWait(raw);
  requireLive(principal);
  const release = claim(feed, 'waiters');
  const set = new WaitSet(plan);
  try {
    return await new Promise<ExecutionsWaitResult>((resolve, reject) => {
      let over = false;
      const detaches: (() => void)[] = [];
      /** Changes that arrive while the first read is under way, applied after it (older states are ignored). */
      let early: Execution[] | null = [];
      const cleanup = () => {
        over = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        principal.signal?.removeEventListener('abort', onRevoked);
        for (const detach of detaches) detach();
      };
      const finish = (why: string | null) => {
        if (over) return;
        cleanup();
        resolve({
          completed: why === null,
          executions: set.executions(),
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          message: set.message(why),
        });
      };
      const fail = (err: unknown) => {
        if (over) return;
        cleanup();
        reject(err);
      };
      const check = () => {
        if (set.overLimit) fail(tooManyMatches());
        else if (set.done) finish(null);
      };
      const changed = (e: Execution) => {
        if (over) return;
        if (early) return void early.push(e);
        set.update(e);
        check();
      };
      // Shut down while the first read is under way: answer once it is in, with the states it read.
      const closed = () => (early ? undefined : finish('Server shutting down'));
      const onAbort = () => finish('Client went away');
      const onRevoked = () => fail(revokedError());
      const timer = setTimeout(() => finish(`Timed out after ${plan.timeoutSeconds} s`), plan.timeoutSeconds * 1000);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      principal.signal?.addEventListener('abort', onRevoked, { once: true });
      // A filter listens before its first read, so an execution created meanwhile is not missed.
      if (plan.filter) detaches.push(feed.subscribeUpdates({ principal, filter: null, execution: changed, closed }));
      readWaitTargets(db, principal, plan).then((rows) => {
        if (over) return;
        for (const row of rows) set.update(row);
        const pending = early ?? [];
        early = null;
        for (const e of pending) set.update(e);
        check();
        if (!over && feed.isClosed) return closed(); // shut down during the read: nothing would tell this wait more
        if (over || !plan.ids) return;
        // One listener object for all ids (hubs hold it in their sets), so a wait costs little beyond its rows.
        const listener: ExecutionListener = { execution: changed, closed };
        for (const id of plan.ids) {
          detaches.push(feed.attach(id, listener, set.get(id)?.lastSequence ?? 0));
          // The hub's row when it is as new: many waits on one execution need not hold a copy each.
          const shared = feed.latestOf(id);
          if (shared) set.update(shared);
        }
      }, fail);
    });
  } finally {
    release();
  }
}
