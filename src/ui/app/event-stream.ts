import { useEffect, useRef, useState } from 'preact/hooks';
import { reattachDelay, type VigilApiError, type VigilClient } from '../../client/client.js';
import { isTerminal } from '../../client/documents.js';
import { isLog, type LogEvent, VIGIL_STREAM } from '../../client/log-events.js';
import { type DashboardEvent, EventsWithLogs } from '../../client/sdk/dashboard.js';
import { subscribe } from '../../client/sdk/transport.js';
import type { Connection } from './live.js';

/** How many events (other than output) the log keeps in memory (the newest). */
const KEEP = 1000;

export type StreamState = Connection | 'ended';

/** An event of the log: any but the run's output. */
export type ExecutionEvent = Exclude<DashboardEvent, LogEvent>;

export interface EventLog {
  events: ExecutionEvent[];
  state: StreamState;
  /** Set when the stream cannot go on (execution not found, no access). */
  error: VigilApiError | null;
}

/**
 * The live event log of one execution through `executionEvents`. Each (re)attach passes `after` = the last
 * sequence seen, so a dropped connection loses nothing and repeats nothing (API.md §2). The server completes the
 * stream after the terminal event, at its timeout, or when it shuts down; only the first ends the log.
 * The run's output (`LOG` events, API.md §8) comes on the same stream and cursor and goes to `onLog`, not into
 * `events`; `onEvent` hears of the others, and of Vigil's own notices (a truncation changes the execution).
 */
export function useEventLog(
  client: VigilClient,
  executionId: string,
  onEvent: (e: ExecutionEvent | LogEvent) => void,
  onAccessError: (e: VigilApiError) => void,
  onLog: (e: LogEvent) => void = () => {},
): EventLog {
  const [events, setEvents] = useState<ExecutionEvent[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  const [error, setError] = useState<VigilApiError | null>(null);
  const handlers = useRef({ onEvent, onAccessError, onLog });
  handlers.current = { onEvent, onAccessError, onLog };

  useEffect(() => {
    let stopped = false;
    let after = 0;
    let terminal = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dispose = () => {};
    setEvents([]);
    setError(null);
    setState('connecting');
    const retry = () => {
      if (stopped) return;
      setState('reconnecting');
      timer = setTimeout(connect, reattachDelay(attempt++, 10_000));
    };
    const connect = () => {
      dispose = subscribe(
        client,
        EventsWithLogs,
        { id: executionId, after, timeout: 3600 },
        {
          connected: () => {
            attempt = 0;
            setState('live');
          },
          next: ({ executionEvents: e }) => {
            if (e.sequence <= after) return;
            after = e.sequence;
            if (isLog(e)) {
              handlers.current.onLog(e);
              if (e.stream === VIGIL_STREAM) handlers.current.onEvent(e);
              return;
            }
            if ('to' in e && isTerminal(e.to)) terminal = true;
            setEvents((prev) => (prev.length >= KEEP ? [...prev.slice(1 - KEEP), e] : [...prev, e]));
            handlers.current.onEvent(e);
          },
          error: (e) => {
            if (e.code === 'CONNECTION' || e.code === 'SERVICE_UNAVAILABLE' || e.code.startsWith('HTTP_5')) {
              retry();
              return;
            }
            if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') handlers.current.onAccessError(e);
            setError(e);
            setState('ended');
          },
          complete: () => {
            if (terminal) setState('ended');
            else retry();
          },
        },
      );
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      dispose();
    };
  }, [client, executionId]);

  return { events, state, error };
}
