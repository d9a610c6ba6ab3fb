import type { Executor } from '../db/client.js';
import { type Principal, requireLive, revokedError } from '../domain/access.js';
import { getExecution } from '../domain/executions.js';
import { parse, waitTimeoutSeconds } from '../domain/inputs.js';
import { type Execution, isTerminal } from '../domain/types.js';
import { type Expiring, waitDeadlines } from './deadlines.js';
import type { ChangeFeed, ExecutionListener } from './feed.js';
import { give, take } from './limits.js';

/**
 * What listens to a cancellation signal: an object (a held wait itself), not a closure, so a wait keeps none. An
 * AbortSignal passes its event (whose target tells the signals apart); `responseClosed`'s passes nothing.
 */
export interface CancelListener {
  handleEvent(event?: Event): void;
}

/** What a wait needs of a cancellation signal: an AbortSignal is one, and so is `responseClosed`'s. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: CancelListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancelListener): void;
}

/** What `responseClosed` listens on: a node:http response. */
interface Closable {
  on(event: 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
}

/** The signal of each response being watched, for the one `close` listener all of them share. */
const watched = new WeakMap<Closable, ResponseClosed>();
function onResponseClose(this: Closable): void {
  const signal = watched.get(this);
  watched.delete(this);
  if (signal && !this.writableFinished) signal.abort();
}

/** `responseClosed`'s signal: one object, at most one listener (a wait's), no closures. */
class ResponseClosed implements CancelSignal {
  private listener: CancelListener | null = null;
  private more: CancelListener[] | null = null;

  constructor(public aborted: boolean) {}

  addEventListener(_type: 'abort', listener: CancelListener): void {
    if (!this.listener) this.listener = listener;
    else if (this.more) this.more.push(listener);
    else this.more = [listener];
  }

  removeEventListener(_type: 'abort', listener: CancelListener): void {
    if (this.listener === listener) this.listener = null;
    else if (this.more) this.more = this.more.filter((l) => l !== listener);
  }

  abort(): void {
    this.aborted = true;
    const first = this.listener;
    const more = this.more;
    this.listener = null;
    this.more = null;
    first?.handleEvent();
    if (more) for (const l of more) l.handleEvent();
  }
}

/**
 * Aborted when a node:http response closes before it was finished (the client went away). Far lighter than the
 * AbortSignal of a fetch-API Request, which a held wait would otherwise keep (with the Request built around it).
 * Made after the response already closed (a client that hung up while its body was read or its key checked), it is
 * aborted from the start: its `close` will not come again.
 */
export function responseClosed(res: Closable): CancelSignal {
  const known = watched.get(res);
  if (known) return known;
  const signal = new ResponseClosed(res.destroyed && !res.writableFinished);
  if (!signal.aborted) {
    watched.set(res, signal);
    res.on('close', onResponseClose);
  }
  return signal;
}

export interface WaitResult {
  /** True when the execution is terminal; false when the timeout passed first (not an error). */
  completed: boolean;
  execution: Execution;
  /** How long the wait took. */
  durationMs: number;
  message: string;
}

/**
 * Waits until the execution is terminal (API.md §2): at once when it already is, as soon as a commit makes it so
 * (pushed by the change feed, not polled per waiter), or `completed: false` at the timeout. Shutdown and a client
 * that goes away end the wait early with the current state.
 */
export async function waitForExecution(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  id: string,
  timeoutSeconds: number,
  signal?: CancelSignal,
): Promise<WaitResult> {
  const timeout = parse(waitTimeoutSeconds, timeoutSeconds, ['timeout']);
  requireLive(principal);
  const started = performance.now();
  take(feed, 'waiters');
  let first: Execution;
  try {
    first = await getExecution(db, principal, id);
  } catch (err) {
    give(feed, 'waiters');
    throw err;
  }
  if (isTerminal(first.status)) {
    give(feed, 'waiters');
    return waitResult(started, true, first, '');
  }
  // Returned, not awaited: this function's frame (and the row it read, which the waiter soon trades for the hub's
  // shared one) is let go while the wait is held; the waiter gives the slot back when it ends.
  return new Promise<WaitResult>((resolve, reject) => {
    new Waiter(feed, principal, id, first, started, resolve, reject).start(timeout, signal);
  });
}

function waitResult(started: number, completed: boolean, execution: Execution, why: string): WaitResult {
  return {
    completed,
    execution,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    message: completed
      ? `Execution finished with status ${execution.status}`
      : `${why}; execution is ${execution.status}`,
  };
}

/**
 * One held wait: a single object (the feed listener and the signals' listener too; methods on the prototype) holding
 * what the answer needs, so ten thousand held waits keep no chain of closures over their requests.
 */
class Waiter implements ExecutionListener, CancelListener, Expiring {
  private over = false;
  /** The wait's tick in `waitDeadlines` (0 before it is filed). */
  private deadline = 0;
  private timeoutSeconds = 0;
  private signal: CancelSignal | undefined;
  private attached = false;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly principal: Principal,
    private readonly id: string,
    private latest: Execution,
    private readonly started: number,
    private readonly resolve: (result: WaitResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  start(timeoutSeconds: number, signal: CancelSignal | undefined): void {
    this.timeoutSeconds = timeoutSeconds;
    this.deadline = waitDeadlines.add(this, timeoutSeconds * 1000);
    // Checked after registering, not only as a future event: the client may have gone before we got here.
    if (signal?.aborted) {
      this.finish(false, 'Client went away');
      return;
    }
    this.signal = signal;
    signal?.addEventListener('abort', this, { once: true });
    this.principal.signal?.addEventListener('abort', this, { once: true });
    this.feed.attach(this.id, this, this.latest.lastSequence); // let go by id (`cleanup`), not by the closure returned
    this.attached = true;
    // Share the hub's row when it is as new as ours: ten thousand waiters need not hold ten thousand copies.
    const shared = this.feed.latestOf(this.id);
    if (shared && shared.lastSequence >= this.latest.lastSequence) this.latest = shared;
  }

  /** A signal aborted: the key was revoked (the principal's), else the client went away. */
  handleEvent(event?: Event): void {
    if (event && event.target === this.principal.signal) {
      if (this.cleanup()) this.reject(revokedError());
    } else this.finish(false, 'Client went away');
  }

  /** The timeout passed. */
  expire(): void {
    this.finish(false, `Timed out after ${this.timeoutSeconds} s`);
  }

  /** The feed's newest row of the execution. */
  execution(e: Execution): void {
    if (e.lastSequence < this.latest.lastSequence) return;
    this.latest = e;
    if (isTerminal(e.status)) this.finish(true, '');
  }

  /** The feed is shutting down. */
  closed(): void {
    this.finish(false, 'Server shutting down');
  }

  finish(completed: boolean, why: string): void {
    if (!this.cleanup()) return;
    this.resolve(waitResult(this.started, completed, this.latest, why));
  }

  /** False when the wait was already over. */
  private cleanup(): boolean {
    if (this.over) return false;
    this.over = true;
    if (this.deadline) waitDeadlines.remove(this, this.deadline);
    this.signal?.removeEventListener('abort', this);
    this.principal.signal?.removeEventListener('abort', this);
    if (this.attached) this.feed.detach(this.id, this);
    this.attached = false;
    give(this.feed, 'waiters');
    return true;
  }
}
