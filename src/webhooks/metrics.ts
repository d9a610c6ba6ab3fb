import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Db } from '../db/client.js';
import type { DispatcherObserver } from './dispatcher.js';
import { queueStats } from './store.js';

/**
 * Webhook metrics on the server's registry: attempts and finished deliveries by outcome, attempt latency, and, read
 * from the outbox at scrape time (so they hold across instances), the queue depth and the oldest pending age.
 */
export function webhookMetrics(registry: Registry, db: Db, inFlight: () => number): DispatcherObserver {
  const attempts = new Counter({
    name: 'vigil_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (succeeded, retry, abandoned, gone = 410, lost = not recorded)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'vigil_webhook_deliveries_total',
    help: 'Webhook deliveries finished by this instance, by outcome (succeeded, abandoned, gone)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'vigil_webhook_attempt_duration_seconds',
    help: 'Duration of webhook delivery attempts (request sent to response read)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let stats: Promise<{ pending: number; oldestAgeSeconds: number }> | null = null;
  // One read per scrape for both gauges.
  const read = () => {
    stats ??= queueStats(db, new Date()).finally(() => setTimeout(() => (stats = null), 100).unref());
    return stats;
  };
  new Gauge({
    name: 'vigil_webhook_queue_depth',
    help: 'Webhook deliveries pending (due, in backoff or in flight), across all instances',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => ({ pending: Number.NaN }))).pending);
    },
  });
  new Gauge({
    name: 'vigil_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest pending webhook delivery (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => ({ oldestAgeSeconds: Number.NaN }))).oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'vigil_webhook_in_flight',
    help: 'Webhook attempts in flight in this instance',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  return {
    attempt(outcome, seconds) {
      attempts.inc({ outcome });
      if (outcome !== 'lost') latency.observe(seconds);
      if (outcome === 'succeeded' || outcome === 'abandoned' || outcome === 'gone') deliveries.inc({ outcome });
    },
  };
}
