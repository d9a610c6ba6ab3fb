import { sql } from 'drizzle-orm';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Executor } from './db/client.js';
import { type Deleted, oldestTerminal } from './domain/retention.js';
import type { ChangeFeed } from './feed/feed.js';
import { routeLabeler } from './http/routes.js';

export interface Metrics {
  registry: Registry;
  observeRequest(method: string, path: string, status: number, seconds: number): void;
  eventsRecorded(n: number): void;
  sweeperMoved(to: string, n: number): void;
  retentionDeleted(deleted: Deleted): void;
}

/** Prometheus metrics of one server (its own registry, so several servers can share a process in tests). */
export function createMetrics(
  db: Executor,
  feed: ChangeFeed,
  sse: () => { computed: number; written: number },
  restRoutes: () => readonly string[],
): Metrics {
  const registry = new Registry();
  const routeOf = routeLabeler(restRoutes);
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  const requests = new Counter({
    name: 'vigil_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'], // each from a bounded set (node's parser knows a fixed list of methods)
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request duration (for waits and streams: how long they were held)',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300],
    registers: [registry],
  });
  const events = new Counter({ name: 'vigil_events_ingested_total', help: 'Events appended', registers: [registry] });
  const sweeper = new Counter({
    name: 'vigil_sweeper_transitions_total',
    help: 'Executions moved by the sweeper, by target status',
    labelNames: ['to'],
    registers: [registry],
  });
  const retainedExecutions = new Counter({
    name: 'vigil_retention_deleted_executions_total',
    help: 'Executions deleted by this instance’s retention job (API.md §10)',
    registers: [registry],
  });
  const retainedEvents = new Counter({
    name: 'vigil_retention_deleted_events_total',
    help: 'Events (log lines included) deleted with them',
    registers: [registry],
  });
  new Gauge({
    name: 'vigil_oldest_terminal_execution_age_seconds',
    help: 'Age of the completion of the oldest terminal execution not pinned (0 when none): retention keeps up while it stays near VIGIL_RETENTION_DAYS',
    registers: [registry],
    async collect() {
      const oldest = await oldestTerminal(db).catch(() => null);
      this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'vigil_table_bytes',
    help: 'Bytes on disk of each table, its indexes and TOAST included (pg_total_relation_size)',
    labelNames: ['table'],
    registers: [registry],
    async collect() {
      const sizes = await tableBytes(db).catch(() => []);
      this.reset();
      for (const { table, bytes } of sizes) this.set({ table }, bytes);
    },
  });
  new Gauge({
    name: 'vigil_open_waiters',
    help: 'Waits held open',
    registers: [registry],
    collect() {
      this.set(feed.slots.open.waiters);
    },
  });
  new Gauge({
    name: 'vigil_open_streams',
    help: 'Streams (subscriptions, SSE) held open',
    registers: [registry],
    collect() {
      this.set(feed.slots.open.streams);
    },
  });
  new Gauge({
    name: 'vigil_change_feed_listening',
    help: '1 while the LISTEN connection is up',
    registers: [registry],
    collect() {
      this.set(feed.listening ? 1 : 0);
    },
  });
  const counterFrom = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counterFrom(
    'vigil_notifications_received_total',
    'Change notifications handled (local and remote)',
    () => feed.stats.notifications,
  );
  counterFrom('vigil_notifications_remote_total', 'Change notifications from other instances', () => feed.stats.remote);
  counterFrom(
    'vigil_feed_reads_total',
    'Reads made by the change feed (one per burst per execution)',
    () => feed.stats.reads,
  );
  counterFrom(
    'vigil_sse_items_executed_total',
    'Subscription items executed and serialized (once per group of identical subscribers)',
    () => sse().computed,
  );
  counterFrom(
    'vigil_sse_frames_written_total',
    'Subscription frames written (once per subscriber)',
    () => sse().written,
  );
  counterFrom(
    'vigil_listener_reconnects_total',
    'Reconnects of the LISTEN connection',
    () => feed.transport.reconnects,
  );
  return {
    registry,
    observeRequest: (method, path, status, seconds) => {
      const route = routeOf(path);
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route }, seconds);
    },
    eventsRecorded: (n) => events.inc(n),
    sweeperMoved: (to, n) => sweeper.inc({ to }, n),
    retentionDeleted: (deleted) => {
      retainedExecutions.inc(deleted.executions);
      retainedEvents.inc(deleted.events);
    },
  };
}

/** Every table of the public schema with its total size (one catalog read). */
async function tableBytes(db: Executor): Promise<{ table: string; bytes: number }[]> {
  const result = await db.execute(sql`select c.relname as table, pg_total_relation_size(c.oid)::bigint::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    table: string;
    bytes: string;
  }[];
  return rows.map((r) => ({ table: r.table, bytes: Number(r.bytes) }));
}
