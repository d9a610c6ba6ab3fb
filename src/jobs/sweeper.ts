import type { DomainContext } from '../domain/context.js';
import { interruptSilent, timeOutExpired } from '../domain/transitions.js';

export interface SweeperLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Moves executions past their deadline to TIMED_OUT and silent ones to INTERRUPTED, every `intervalMs` (API.md §2:
 * within 2 s of their moment). Each instance runs one; the guarded, SKIP LOCKED transitions make one winner.
 */
export function startSweeper(
  ctx: DomainContext,
  intervalMs: number,
  log: SweeperLogger,
  onMoved: (kind: 'TIMED_OUT' | 'INTERRUPTED', n: number) => void = () => {},
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      for (;;) {
        const timedOut = await timeOutExpired(ctx);
        const interrupted = await interruptSilent(ctx);
        if (timedOut) onMoved('TIMED_OUT', timedOut);
        if (interrupted) onMoved('INTERRUPTED', interrupted);
        if (stopped || (timedOut < 200 && interrupted < 200)) break;
      }
    } catch (err) {
      log.warn({ err }, 'sweeper pass failed; retrying next interval');
    }
  };
  const timer = setInterval(() => {
    if (!running) running = tick().finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
