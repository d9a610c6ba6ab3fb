import type { Executor } from '../db/client.js';
import { pruneChanges } from '../domain/changes.js';

export interface PrunerLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Marks the change log's frontier and prunes what is older than `retentionHours` (API.md §9), every tenth of the
 * retention and at least every minute: a cursor is refused once its changes may be gone, so it is refused within
 * this interval of passing the retention. Every instance runs one, each by its own retention.
 */
export function startChangePruner(
  db: Executor,
  retentionHours: number,
  log: PrunerLogger,
  now: () => Date = () => new Date(),
): () => Promise<void> {
  const intervalMs = Math.max(250, Math.min(60_000, (retentionHours * 3_600_000) / 10));
  let running: Promise<void> | null = null;
  const tick = async () => {
    try {
      await pruneChanges(db, retentionHours, now());
    } catch (err) {
      log.warn({ err }, 'change log pruning failed; retrying next interval');
    }
  };
  const timer = setInterval(() => {
    if (!running) running = tick().finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  running = tick().finally(() => (running = null));
  return async () => {
    clearInterval(timer);
    await running;
  };
}
