import { Repeater } from '@repeaterjs/repeater';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import { requireLive, requireScope } from '../domain/access.js';
import { EVENT_PAGE, readEvents } from '../domain/events.js';
import { getExecution, parseFilter } from '../domain/executions.js';
import { parse, waitTimeoutSeconds } from '../domain/inputs.js';
import { type Execution, type ExecutionEvent, isTerminal } from '../domain/types.js';
import type { ChangeFeed } from './feed.js';
import { claim } from './limits.js';

/** Pushes a slow consumer may leave unread before its stream is ended (it re-attaches with its cursor). */
const MAX_BACKLOG = 1000;

export const afterInput = z.int().min(0).nullish();

export function isTerminalEvent(e: ExecutionEvent): boolean {
  return e.type === 'STATUS_CHANGED' && isTerminal(e.payload.to as Execution['status']);
}

/**
 * The events of one execution (API.md §2 `executionEvents`): first the stored ones with sequence > after, then live
 * ones, each exactly once and in order; it ends after the event that makes the execution terminal (at once after
 * the replay if it already is), at the timeout, on shutdown, or when the consumer falls too far behind.
 * Checks access and existence before returning, so those errors reach the caller, not the stream.
 */
export async function openEventStream(
  feed: ChangeFeed,
  db: Executor,
  principal: Principal,
  executionId: string,
  options: { after?: number | null; timeoutSeconds: number },
): Promise<AsyncIterable<ExecutionEvent>> {
  const timeout = parse(waitTimeoutSeconds, options.timeoutSeconds, ['timeout']);
  const after = parse(afterInput, options.after, ['after']) ?? 0;
  requireLive(principal);
  claim(feed, 'streams')(); // refuse now when at capacity; the slot is held while the stream runs
  const execution = await getExecution(db, principal, executionId);
  return new Repeater<ExecutionEvent>(async (push, stop) => {
    const release = claim(feed, 'streams');
    let cursor = after;
    let replaying = true;
    let buffered: ExecutionEvent[] = [];
    let backlog = 0;
    let chain = Promise.resolve();
    const timer = setTimeout(() => stop(), timeout * 1000);
    const onRevoked = () => stop();
    principal.signal?.addEventListener('abort', onRevoked, { once: true });

    const emit = (e: ExecutionEvent) => {
      cursor = e.sequence;
      backlog += 1;
      if (backlog > MAX_BACKLOG) {
        stop(); // too far behind: end, and the client re-attaches with after = the last sequence it saw
        return;
      }
      void push(e).then(() => {
        backlog -= 1;
      });
      if (isTerminalEvent(e)) stop();
    };
    /** Emits events past the cursor in order, reading any gap from the table first (never expected, cheap to guard). */
    const deliver = async (events: readonly ExecutionEvent[]) => {
      for (const e of events) {
        if (e.sequence <= cursor) continue;
        while (e.sequence > cursor + 1) {
          const missing = await readEvents(db, executionId, cursor, EVENT_PAGE, e.sequence - 1);
          if (missing.length === 0) break;
          for (const m of missing) emit(m);
        }
        emit(e);
      }
    };
    const detach = feed.attach(
      executionId,
      {
        events: (events) => {
          if (replaying) buffered.push(...events);
          else chain = chain.then(() => deliver(events)).catch(() => stop());
        },
        closed: () => stop(),
      },
      execution.lastSequence,
    );
    try {
      for (;;) {
        const page = await readEvents(db, executionId, cursor, EVENT_PAGE);
        for (const e of page) emit(e);
        if (page.length < EVENT_PAGE) break;
      }
      if (isTerminal(execution.status)) stop();
      replaying = false;
      const pending = buffered;
      buffered = [];
      chain = chain.then(() => deliver(pending)).catch(() => stop());
    } catch {
      stop(); // a failed read ends the stream; the client re-attaches with its cursor
    }
    await stop;
    clearTimeout(timer);
    principal.signal?.removeEventListener('abort', onRevoked);
    detach();
    release();
  });
}

/**
 * Every change of the caller's executions that matches the filter (API.md §2 `executionUpdated`). Coalesces: a
 * consumer that is behind gets the newest state of each execution, not every intermediate one.
 */
export function openUpdateStream(feed: ChangeFeed, principal: Principal, rawFilter: unknown): AsyncIterable<Execution> {
  requireScope(principal, 'executions:read');
  requireLive(principal);
  const filter = parseFilter(rawFilter);
  claim(feed, 'streams')();
  return new Repeater<Execution>(async (push, stop) => {
    const release = claim(feed, 'streams');
    const pending = new Map<string, Execution>();
    let pumping = false;
    const pump = async () => {
      pumping = true;
      while (pending.size > 0) {
        const [id, e] = pending.entries().next().value as [string, Execution];
        pending.delete(id);
        await push(e);
      }
      pumping = false;
    };
    const off = feed.subscribeUpdates({
      principal,
      filter,
      execution: (e) => {
        const seen = pending.get(e.id);
        if (seen && seen.lastSequence > e.lastSequence) return;
        pending.set(e.id, e);
        if (!pumping) void pump();
      },
      closed: () => stop(),
    });
    const onRevoked = () => stop();
    principal.signal?.addEventListener('abort', onRevoked, { once: true });
    await stop;
    principal.signal?.removeEventListener('abort', onRevoked);
    off();
    release();
  });
}
