/**
 * Retention's part of `npm run bench` (`--only retention`, issue 20).
 *
 * 1. Bytes on disk per execution of 20 events on PostgreSQL: `pg_total_relation_size` of every table (heap, indexes,
 *    TOAST) before and after 10,000 such executions are written through the API (a create and four batches of five
 *    events: status, steps, progress, log lines), per table and in total, with and without the change log (whose
 *    rows are pruned after VIGIL_CHANGES_RETENTION_HOURS).
 * 2. The rate of deletion: a backlog of terminal executions of 20 events each, completed 40 days ago, written in SQL
 *    as the API writes them (events, logs, one change row each), then a Vigil with VIGIL_RETENTION_DAYS=30 started on
 *    the same database; executions deleted per second until the backlog is gone, extrapolated to 1,000,000.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { freePort } from '../test/support/postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function gql<T>(base: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const RECORD = `mutation($id: ID!, $events: [ExecutionEventInput!]!) {
  recordExecutionEvents(executionId: $id, events: $events) { execution { lastSequence } }
}`;

/** The 20 events of one execution, in four batches: 2 status changes, 6 step events, 4 progress, 8 log lines. */
function batches(): unknown[][] {
  const step = (stepId: string, status: string) => ({ step: { stepId, status } });
  const line = (n: number) => ({ log: { text: `2026-12-06T01:00:0${n}Z INFO loaded batch ${n} of 8 (1,024 rows)` } });
  return [
    [
      { statusChanged: { to: 'RUNNING' } },
      step('extract', 'RUNNING'),
      line(1),
      line(2),
      { progress: { percentage: 20 } },
    ],
    [step('extract', 'COMPLETED'), step('transform', 'RUNNING'), line(3), line(4), { progress: { percentage: 50 } }],
    [step('transform', 'COMPLETED'), step('load', 'RUNNING'), line(5), line(6), { progress: { percentage: 80 } }],
    [
      step('load', 'COMPLETED'),
      line(7),
      line(8),
      { progress: { percentage: 100 } },
      { statusChanged: { to: 'COMPLETED' } },
    ],
  ];
}

async function tableSizes(db: postgres.Sql): Promise<Map<string, number>> {
  const rows = await db<{ name: string; bytes: string }[]>`select c.relname as name,
      pg_total_relation_size(c.oid)::bigint::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`;
  return new Map(rows.map((r) => [r.name, Number(r.bytes)]));
}

/** Bytes per execution of 20 events, per table and in total (with and without the change log). */
export async function measureFootprint(db: postgres.Sql, base: string, n: number, log: (m: string) => void) {
  log(`retention: footprint of ${n} executions of 20 events`);
  await db`checkpoint`;
  const before = await tableSizes(db);
  const one = async () => {
    const { createExecution } = await gql<{ createExecution: { id: string } }>(
      base,
      'mutation { createExecution(input: { workflowId: "footprint", tags: [{ key: "team", value: "data" }] }) { id } }',
      {},
    );
    for (const events of batches()) await gql(base, RECORD, { id: createExecution.id, events });
  };
  for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: Math.min(32, n - i) }, one));
  await db`vacuum analyze`;
  const after = await tableSizes(db);
  const perTable: Record<string, number> = {};
  for (const [name, bytes] of after) {
    const delta = bytes - (before.get(name) ?? 0);
    if (delta > 0) perTable[name] = round(delta / n, 0);
  }
  const total = Object.values(perTable).reduce((a, b) => a + b, 0);
  return {
    retention_bytes_per_execution: total,
    retention_bytes_per_execution_without_change_log: total - (perTable.execution_changes ?? 0),
    retention_bytes_per_table: perTable,
  };
}

/** Writes `n` terminal executions of 20 events (8 of them log lines), completed 40 days ago, in SQL. */
async function seedBacklog(db: postgres.Sql, n: number): Promise<void> {
  const chunk = 10_000;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    await db.begin(async (tx) => {
      await tx`create temp table seed on commit drop as
        select gen_random_uuid() as id, now() - interval '41 days' + (g * interval '1 ms') as at
        from generate_series(1, ${m}) g`;
      await tx`insert into executions (id, organization_id, environment, workflow_id, status, trigger, root_execution_id,
          last_sequence, created_at, started_at, completed_at, updated_at, steps, progress, log_bytes)
        select id, 'default', 'test', 'backlog', 'COMPLETED', '{"type":"manual"}', id, 20, at, at,
          at + interval '1 day', at + interval '1 day',
          '[{"id":"extract","status":"COMPLETED"},{"id":"transform","status":"COMPLETED"},{"id":"load","status":"COMPLETED"}]',
          '{"percentage":100}', 480
        from seed`;
      await tx`insert into execution_events (execution_id, sequence, type, payload, occurred_at, recorded_at)
        select s.id, q, case when q in (1, 20) then 'STATUS_CHANGED' when q % 2 = 0 then 'STEP' else 'PROGRESS' end::execution_event_type,
          case when q = 1 then '{"from":"PENDING","to":"RUNNING"}'::jsonb when q = 20 then '{"from":"RUNNING","to":"COMPLETED"}'::jsonb
            when q % 2 = 0 then '{"stepId":"load","status":"COMPLETED"}'::jsonb else '{"percentage":50}'::jsonb end,
          s.at, s.at
        from seed s, generate_series(1, 20) q where q not between 5 and 12`;
      await tx`insert into execution_logs (execution_id, sequence, stream, text, occurred_at, recorded_at)
        select s.id, q, 'stdout', '2026-12-06T01:00:00Z INFO loaded batch of 8 (1,024 rows)', s.at, s.at
        from seed s, generate_series(5, 12) q`;
    });
  }
}

function startVigil(databaseUrl: string, port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** A backlog of `n` due executions and a Vigil deleting them: the rate, and the hour test's extrapolation. */
export async function measureDeletion(
  db: postgres.Sql,
  databaseUrl: string,
  n: number,
  log: (m: string) => void,
  started: (c: ChildProcess) => void,
) {
  log(`retention: seeding a backlog of ${n} due executions of 20 events`);
  await seedBacklog(db, n);
  await db`vacuum analyze`;
  const remaining = async () =>
    Number((await db`select count(*)::int as n from executions where workflow_id = 'backlog'`)[0]?.n);
  const port = await freePort();
  const child = startVigil(databaseUrl, port, { VIGIL_RETENTION_DAYS: '30', VIGIL_RETENTION_INTERVAL_MS: '1000' });
  started(child);
  const t0 = performance.now();
  let left = await remaining();
  while (left > 0) {
    await new Promise((r) => setTimeout(r, 2000));
    left = await remaining();
    log(`retention: ${left} left after ${round((performance.now() - t0) / 1000, 0)} s`);
  }
  const seconds = (performance.now() - t0) / 1000;
  child.kill('SIGTERM');
  const rate = n / seconds;
  return {
    retention_backlog: n,
    retention_backlog_seconds: round(seconds, 1),
    retention_deleted_per_s: round(rate, 0),
    retention_1m_backlog_minutes: round(1_000_000 / rate / 60, 1),
  };
}

/** Both figures, written to bench/results/retention.json. */
export async function measureRetention(
  db: postgres.Sql,
  base: string,
  databaseUrl: string,
  quick: boolean,
  log: (m: string) => void,
  started: (c: ChildProcess) => void,
) {
  const write = (results: object) => {
    const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ');
    writeFileSync(
      join(ROOT, 'bench/results/retention.json'),
      `${JSON.stringify({ ...results, load_average_1m: Number(load), at: new Date().toISOString() }, null, 2)}\n`,
    );
  };
  const footprint = await measureFootprint(db, base, quick ? 1000 : 10_000, log);
  write(footprint); // kept should the deletion part not finish
  log(`retention: ${JSON.stringify(footprint)}`);
  const results = { ...footprint, ...(await measureDeletion(db, databaseUrl, quick ? 10_000 : 100_000, log, started)) };
  write(results);
  return results;
}
