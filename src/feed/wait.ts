import type { Executor } from '../db/client.js';
import { type Principal, requireLive, revokedError } from '../domain/access.js';
import { getExecution } from '../domain/executions.js';
import { parse, waitTimeoutSeconds } from '../domain/inputs.js';
import { type Execution, isTerminal } from '../domain/types.js';
import type { ChangeFeed } from './feed.js';
import { claim } from './limits.js';

/** What a wait needs of a cancellation signal: an AbortSignal is one, and so is `responseClosed`'s. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Aborted when a node:http response closes before it was finished (the client went away). Far lighter than the
 * AbortSignal of a fetch-API Request, which a held wait would otherwise keep (with the Request built around it).
 * Made after the response already closed (a client that hung up while its body was read or its key checked), it is
 * aborted from the start: its `close` will not come again.
 */
export function responseClosed(res: {
  once(event: 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
}): CancelSignal {
  let listeners: (() => void)[] = [];
  const signal = {
    aborted: res.destroyed && !res.writableFinished,
    addEventListener: (_type: 'abort', listener: () => void) => void listeners.push(listener),
    removeEventListener: (_type: 'abort', listener: () => void) => {
      listeners = listeners.filter((l) => l !== listener);
    },
  };
  res.once('close', () => {
    if (res.writableFinished) return;
    signal.aborted = true;
    const called = listeners;
    listeners = [];
    for (const l of called) l();
  });
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
  const release = claim(feed, 'waiters');
  try {
    const first = await getExecution(db, principal, id);
    const result = (completed: boolean, execution: Execution, why: string): WaitResult => ({
      completed,
      execution,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      message: completed
        ? `Execution finished with status ${execution.status}`
        : `${why}; execution is ${execution.status}`,
    });
    if (isTerminal(first.status)) return result(true, first, '');
    return await new Promise<WaitResult>((resolve, reject) => {
      let latest = first;
      let detach = () => {};
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        principal.signal?.removeEventListener('abort', onRevoked);
        detach();
      };
      const finish = (completed: boolean, why: string) => {
        cleanup();
        resolve(result(completed, latest, why));
      };
      const onAbort = () => finish(false, 'Client went away');
      const onRevoked = () => {
        cleanup();
        reject(revokedError());
      };
      const timer = setTimeout(() => finish(false, `Timed out after ${timeout} s`), timeout * 1000);
      // Checked after registering, not only as a future event: the client may have gone before we got here.
      if (signal?.aborted) return finish(false, 'Client went away');
      signal?.addEventListener('abort', onAbort, { once: true });
      principal.signal?.addEventListener('abort', onRevoked, { once: true });
      detach = feed.attach(
        id,
        {
          execution: (e) => {
            if (e.lastSequence < latest.lastSequence) return;
            latest = e;
            if (isTerminal(e.status)) finish(true, '');
          },
          closed: () => finish(false, 'Server shutting down'),
        },
        first.lastSequence,
      );
      // Share the hub's row when it is as new as ours: ten thousand waiters need not hold ten thousand copies.
      const shared = feed.latestOf(id);
      if (shared && shared.lastSequence >= latest.lastSequence) latest = shared;
    });
  } finally {
    release();
  }
}
