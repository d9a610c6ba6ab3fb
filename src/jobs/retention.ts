import type { Executor } from '../db/client.js';
import { type Deleted, deleteDue } from '../domain/retention.js';

export interface RetentionLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RetentionSettings {
  /** VIGIL_RETENTION_DAYS; 0 keeps everything (the job does not start). */
  days: number;
  intervalMs: number;
  batch: number;
  /** The pause after a batch, as a multiple of the batch's time (at least 20 ms). */
  pauseFactor: number;
}

const DAY_MS = 86_400_000;

/**
 * Deletes what is due by API.md §10, every `intervalMs` (30 s by default, so a due execution is gone within 75 s),
 * in batches of `batch` trees, each followed by a pause `pauseFactor` times as long as it took (2 by default: at most
 * a third of one connection's time goes to deletion), so ingest and reads are never queued behind a long transaction. Every instance runs one, each
 * by its own VIGIL_RETENTION_DAYS; `deleteDueBatch`'s SKIP LOCKED claim gives each tree to one of them.
 */
export function startRetention(
  db: Executor,
  settings: RetentionSettings,
  log: RetentionLogger,
  onDeleted: (deleted: Deleted) => void = () => {},
  now: () => Date = () => new Date(),
): () => Promise<void> {
  if (settings.days <= 0) return async () => {};
  let running: Promise<void> | null = null;
  let stopped = false;
  // Stopping ends a pause at once, so a server's shutdown never waits out one.
  const pauses = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(20, ms * settings.pauseFactor));
      pauses.add(done);
    });
  const tick = async () => {
    try {
      const cutoff = new Date(now().getTime() - settings.days * DAY_MS);
      const total = await deleteDue(
        db,
        { cutoff },
        {
          batch: settings.batch,
          onBatch: onDeleted,
          pause,
          stopped: () => stopped,
        },
      );
      if (total.executions > 0) log.info({ ...total, cutoff }, 'retention deleted executions');
    } catch (err) {
      if (!stopped) log.warn({ err }, 'retention pass failed; retrying next interval');
    }
  };
  const timer = setInterval(() => {
    if (!running) running = tick().finally(() => (running = null));
  }, settings.intervalMs);
  timer.unref();
  running = tick().finally(() => (running = null));
  return async () => {
    stopped = true;
    clearInterval(timer);
    for (const done of [...pauses]) done();
    await running;
  };
}
