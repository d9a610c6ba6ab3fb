import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { VigilApiError } from '../../client/client.js';

/**
 * A read that runs at once when `key` changes (or the view becomes active), and again after live changes
 * (`changes` moved) at most once per `ms`: a burst of updates costs one re-read, not one each.
 */
export function useThrottledRead<T>(
  run: () => Promise<T>,
  key: string,
  changes: number,
  active: boolean,
  ms = 2000,
): { data: T | null; error: VigilApiError | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<VigilApiError | null>(null);
  const runRef = useRef(run);
  runRef.current = run;
  const seq = useRef(0);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const go = useCallback(() => {
    const n = ++seq.current;
    last.current = Date.now();
    runRef.current().then(
      (d) => {
        if (n !== seq.current) return;
        setData(d);
        setError(null);
      },
      (e: VigilApiError) => {
        if (n === seq.current) setError(e);
      },
    );
  }, []);

  useEffect(() => {
    if (!active) return;
    clearTimeout(timer.current);
    timer.current = undefined;
    go();
  }, [key, active, go]);

  useEffect(() => {
    if (!active || changes === 0 || timer.current) return;
    timer.current = setTimeout(
      () => {
        timer.current = undefined;
        go();
      },
      Math.max(0, last.current + ms - Date.now()),
    );
  }, [changes, active, go, ms]);

  useEffect(() => () => clearTimeout(timer.current), []);
  return { data, error };
}
