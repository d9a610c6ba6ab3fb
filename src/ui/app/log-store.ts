import { useEffect, useRef, useState } from 'preact/hooks';
import { type LogEvent, VIGIL_STREAM } from '../../client/log-events.js';
import { type LogLine, linesOf } from './log-lines.js';

/** The least time between two redraws for new output. */
const REDRAW_MS = 100;

/**
 * The output of one execution, as it arrives: kept in plain arrays that only grow (a run of 100,000 lines is
 * appended to, never copied). Its one reader (the log pane) is told of new lines on the next animation frame, and
 * at most every {@link REDRAW_MS} while output pours in (a replay of 100,000 lines redraws a few dozen times, not
 * once per network read); the rest of the detail does not re-render for output.
 */
export class LogStore {
  readonly events: LogEvent[] = [];
  readonly lines: LogLine[] = [];
  /** Vigil said the output was cut at its cap (its one notice on the `vigil` stream). */
  truncated = false;
  private listener: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private frame: number | null = null;
  private drawn = 0;

  readonly append = (e: LogEvent): void => {
    this.events.push(e);
    for (const line of linesOf(e)) this.lines.push(line);
    if (e.stream === VIGIL_STREAM) this.truncated = true;
    if (this.timer !== null || this.frame !== null) return;
    const draw = () => {
      this.timer = null;
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.drawn = performance.now();
        this.listener?.();
      });
    };
    const wait = this.drawn + REDRAW_MS - performance.now();
    if (wait > 0) this.timer = setTimeout(draw, wait);
    else draw();
  };

  /** Calls `fn` after lines were added; returns the unsubscribe. */
  listen(fn: () => void): () => void {
    this.listener = fn;
    return () => {
      this.listener = null;
      if (this.timer !== null) clearTimeout(this.timer);
      if (this.frame !== null) cancelAnimationFrame(this.frame);
      this.timer = null;
      this.frame = null;
    };
  }
}

/** A fresh store per execution (the event stream calls its `append`). */
export function useLogStore(executionId: string): LogStore {
  const kept = useRef<{ id: string; store: LogStore } | null>(null);
  if (kept.current?.id !== executionId) kept.current = { id: executionId, store: new LogStore() };
  return kept.current.store;
}

/** Re-renders the caller when the store has new lines; returns a number that moves each time. */
export function useLogVersion(store: LogStore): number {
  const [version, setVersion] = useState(0);
  useEffect(() => store.listen(() => setVersion((n) => n + 1)), [store]);
  return version;
}
