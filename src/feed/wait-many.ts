import type { Executor } from '../db/client.js';
import { type Principal, requireLive, revokedError } from '../domain/access.js';
import type { Execution } from '../domain/types.js';
import { planWait, readWaitTargets, tooManyMatches, WaitSet } from '../domain/wait-many.js';
import { type Expiring, waitDeadlines } from './deadlines.js';
import type { ChangeFeed, ExecutionListener, UpdateListener } from './feed.js';
import { give, take } from './limits.js';
import type { CancelListener, CancelSignal } from './wait.js';

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
  take(feed, 'waiters');
  // Not an async frame held for the wait's life: the waiter alone is held, and gives the slot back when it ends.
  return new Promise<ExecutionsWaitResult>((resolve, reject) => {
    new ManyWaiter(feed, principal, new WaitSet(plan), started, resolve, reject).start(db, signal);
  });
}

/**
 * One held wait on many: a single object (methods on the prototype) that is also the listener every one of its ids'
 * hubs holds, and a filter's update listener; it is registered per id by the object itself and let go by id
 * (`ChangeFeed.detach`), so a wait on ten ids keeps no closure per id, nor a chain of closures over its request.
 */
class ManyWaiter implements ExecutionListener, UpdateListener, CancelListener, Expiring {
  /** The update listener's filter: every change of the tenant reaches `execution`, and the set decides. */
  readonly filter = null;
  private over = false;
  /** The wait's tick in `waitDeadlines` (0 before it is filed). */
  private deadline = 0;
  private signal: CancelSignal | undefined;
  /** How many of `plan.ids` are attached to their hubs (a prefix). */
  private attached = 0;
  /** A filter's update listener's detach (one per wait). */
  private unsubscribe: (() => void) | null = null;
  /** Changes that arrive while the first read is under way, applied after it (older states are ignored). */
  private early: Execution[] | null = [];

  constructor(
    private readonly feed: ChangeFeed,
    readonly principal: Principal,
    readonly set: WaitSet,
    private readonly started: number,
    private readonly resolve: (result: ExecutionsWaitResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  start(db: Executor, signal: CancelSignal | undefined): void {
    const { plan } = this.set;
    this.deadline = waitDeadlines.add(this, plan.timeoutSeconds * 1000);
    // Checked now, not only as a future event: the client may have gone before we got here.
    if (signal?.aborted) {
      this.finish('Client went away');
      return;
    }
    this.signal = signal;
    signal?.addEventListener('abort', this, { once: true });
    this.principal.signal?.addEventListener('abort', this, { once: true });
    // A filter listens before its first read, so an execution created meanwhile is not missed.
    if (plan.filter) this.unsubscribe = this.feed.subscribeUpdates(this);
    readWaitTargets(db, this.principal, plan).then(
      (rows) => this.read(rows),
      (err: unknown) => this.fail(err),
    );
  }

  /** The first read is in: the states it read, then what changed meanwhile; then the ids' hubs, if still waiting. */
  private read(rows: Execution[]): void {
    if (this.over) return;
    const { set, feed } = this;
    for (const row of rows) set.update(row);
    const pending = this.early ?? [];
    this.early = null;
    for (const e of pending) set.update(e);
    this.check();
    if (!this.over && feed.isClosed) this.closed(); // shut down during the read: nothing would tell it more
    const ids = set.plan.ids;
    if (this.over || !ids) return;
    for (const id of ids) {
      feed.attach(id, this, set.get(id)?.lastSequence ?? 0); // let go by id (`cleanup`), not by the closure returned
      this.attached += 1;
      // The hub's row when it is as new: many waits on one execution need not hold a copy each.
      const shared = feed.latestOf(id);
      if (shared) set.update(shared);
    }
  }

  /** The timeout passed. */
  expire(): void {
    this.finish(`Timed out after ${this.set.plan.timeoutSeconds} s`);
  }

  /** A signal aborted: the key was revoked (the principal's), else the client went away. */
  handleEvent(event?: Event): void {
    if (event && event.target === this.principal.signal) this.fail(revokedError());
    else this.finish('Client went away');
  }

  /** The feed's newest row of one of the executions (or, with a filter, of any of the tenant's). */
  execution(e: Execution): void {
    if (this.over) return;
    if (this.early) return void this.early.push(e);
    this.set.update(e);
    this.check();
  }

  /** The feed is shutting down; during the first read, the read answers with the states it read. */
  closed(): void {
    if (!this.early) this.finish('Server shutting down');
  }

  private check(): void {
    if (this.set.overLimit) this.fail(tooManyMatches());
    else if (this.set.done) this.finish(null);
  }

  /** Answers: `why` null when the wait's condition holds, else how it ended without. */
  finish(why: string | null): void {
    if (!this.cleanup()) return;
    const { set } = this;
    this.resolve({
      completed: why === null,
      executions: set.executions(),
      durationMs: Math.round((performance.now() - this.started) * 1000) / 1000,
      message: set.message(why),
    });
  }

  private fail(err: unknown): void {
    if (this.cleanup()) this.reject(err);
  }

  /** False when the wait was already over. */
  private cleanup(): boolean {
    if (this.over) return false;
    this.over = true;
    if (this.deadline) waitDeadlines.remove(this, this.deadline);
    this.signal?.removeEventListener('abort', this);
    this.principal.signal?.removeEventListener('abort', this);
    this.unsubscribe?.();
    this.unsubscribe = null;
    const ids = this.set.plan.ids;
    if (ids) for (let i = 0; i < this.attached; i++) this.feed.detach(ids[i] as string, this);
    this.attached = 0;
    this.early = null;
    give(this.feed, 'waiters');
    return true;
  }
}
