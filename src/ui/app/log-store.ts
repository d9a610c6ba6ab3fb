import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type LogEvent, VIGIL_STREAM } from '../../client/logs.js';
import { type LogLine, linesOf } from './log-lines.js';

/**
 * The output of one execution, as it arrives: kept in plain arrays that only grow (a run of 100,000 lines is
 * appended to, never copied), and drawn again at most once per animation frame however many events a network read
 * brings.
 */
export class LogStore {
  readonly events: LogEvent[] = [];
  readonly lines: LogLine[] = [];
  /** Vigil said the output was cut at its cap (its one notice on the `vigil` stream). */
  truncated = false;

  append(e: LogEvent): void {
    this.events.push(e);
    for (const line of linesOf(e)) this.lines.push(line);
    if (e.stream === VIGIL_STREAM) this.truncated = true;
  }
}

export interface LiveLog {
  store: LogStore;
  /** Moves when lines were added (a render dependency). */
  version: number;
  append(e: LogEvent): void;
}

/** A fresh store per execution, and `append` for the event stream to call. */
export function useLogStore(executionId: string): LiveLog {
  const kept = useRef<{ id: string; store: LogStore } | null>(null);
  if (kept.current?.id !== executionId) kept.current = { id: executionId, store: new LogStore() };
  const store = kept.current.store;
  const [version, setVersion] = useState(0);
  const frame = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    },
    [store],
  );
  const append = useCallback(
    (e: LogEvent) => {
      store.append(e);
      frame.current ??= requestAnimationFrame(() => {
        frame.current = null;
        setVersion((n) => n + 1);
      });
    },
    [store],
  );
  return { store, version, append };
}
