import { sql } from 'drizzle-orm';
import type { Database } from './db/client.js';
import { pipelinedTransaction } from './db/pipeline.js';
import type { DomainContext } from './domain/context.js';
import { oldestWriteMs } from './domain/record.js';
import type { ChangeFeed } from './feed/feed.js';
import { within } from './within.js';

/** /readyz answers within this whatever the database does: a check that has not answered by then counts as down. */
const DEADLINE_MS = 800;
/** A write transaction running this long means the write path is stuck: ours take milliseconds. */
const WRITE_STALL_MS = 10_000;

export interface Readiness {
  ready: boolean;
  body: Record<string, unknown>;
}

/**
 * What /readyz reports: ready only while every path the instance serves can work — the database answers a query, a
 * write transaction goes through the same pipeline ingest uses (its own connection, BEGIN, COMMIT), no write has been
 * stuck for long, and the change feed listens. Each probe runs at most once at a time (a slow database does not pile
 * them up), and the answer never waits longer than DEADLINE_MS.
 */
export function createReadiness(database: Database, domain: DomainContext, feed: ChangeFeed) {
  const pingDatabase = singleFlight(() => database.ping());
  const probeWrites = singleFlight(() =>
    pipelinedTransaction(database.db, ({ send }) => send([sql`select 1`], true)).then(
      () => true,
      () => false,
    ),
  );
  return async (shuttingDown: boolean): Promise<Readiness> => {
    const [dbUp, writable] = await Promise.all([
      within(pingDatabase(), DEADLINE_MS, false),
      within(probeWrites(), DEADLINE_MS, false),
    ]);
    const stalled = oldestWriteMs(domain) > WRITE_STALL_MS;
    const listening = feed.listening;
    const ready = dbUp && writable && !stalled && listening && !shuttingDown;
    return {
      ready,
      body: {
        status: ready ? 'ready' : 'unavailable',
        database: dbUp ? 'up' : 'down',
        writes: stalled ? 'stalled' : writable ? 'ok' : 'down',
        changeFeed: listening ? 'listening' : 'down',
        ...(shuttingDown && { shuttingDown: true }),
      },
    };
  };
}

/**
 * A probe that has not settled after this long is given up: the next check starts a new one. Without it, one probe
 * that never settles (a connection lost without a close, a reserve that is never answered) would be the answer of
 * every later check, and /readyz would stay 503 after the database is back.
 */
export const PROBE_GIVE_UP_MS = 3000;

/** Runs `run` at most once at a time: callers share the probe in flight, unless it is older than `giveUpMs`. */
function singleFlight<T>(run: () => Promise<T>, giveUpMs = PROBE_GIVE_UP_MS): () => Promise<T> {
  let running: { promise: Promise<T>; at: number } | null = null;
  return () => {
    const at = Date.now();
    if (running && at - running.at < giveUpMs) return running.promise;
    const promise: Promise<T> = run().finally(() => {
      if (running?.promise === promise) running = null;
    });
    running = { promise, at };
    return promise;
  };
}
