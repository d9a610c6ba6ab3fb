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
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { freePort } from '../test/support/postgres.js';
import { createExecutions } from './clients/common.js';
import { vigilArgs } from './user/http.js';

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

/**
 * The backlog's tags (`BENCH_RETENTION_TAGS`, default 1: `team=data`, as the footprint's executions have): each is a
 * row of the tag index, written by its insert trigger and deleted with the execution.
 */
const backlogTags = (count = Number(process.env.BENCH_RETENTION_TAGS ?? 1)) =>
  JSON.stringify(
    Object.fromEntries(Array.from({ length: count }, (_, i) => (i === 0 ? ['team', 'data'] : [`k${i}`, `v${i}`]))),
  );

/** Writes `n` terminal executions of 20 events (8 of them log lines), completed 40 days ago, in SQL. */
export async function seedBacklog(db: postgres.Sql, n: number): Promise<void> {
  const tags = backlogTags();
  const chunk = 10_000;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    await db.begin(async (tx) => {
      await tx`create temp table seed on commit drop as
        select gen_random_uuid() as id, now() - interval '41 days' + (g * interval '1 ms') as at
        from generate_series(1, ${m}) g`;
      await tx`insert into executions (id, organization_id, environment, workflow_id, status, trigger, root_execution_id,
          last_sequence, created_at, started_at, completed_at, updated_at, steps, progress, log_bytes, tags)
        select id, 'default', 'test', 'backlog', 'COMPLETED', '{"type":"manual"}', id, 20, at, at,
          at + interval '1 day', at + interval '1 day',
          '[{"id":"extract","status":"COMPLETED"},{"id":"transform","status":"COMPLETED"},{"id":"load","status":"COMPLETED"}]',
          '{"percentage":100}', 480, ${tags}::text::jsonb
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

/** A Vigil of this checkout or of `root` (built: `npm run bench` builds this one first), as `npm start` starts it. */
function startVigil(databaseUrl: string, port: number, env: Record<string, string>, root = ROOT): ChildProcess {
  return spawn(process.execPath, vigilArgs(root), {
    cwd: root,
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
  const remaining = async () =>
    Number((await db`select count(*)::int as n from executions where workflow_id = 'backlog'`)[0]?.n);
  const already = await remaining(); // what an earlier part left
  log(`retention: seeding a backlog of ${n} due executions of 20 events (${already} there)`);
  if (already < n) await seedBacklog(db, n - already);
  await db`vacuum analyze`;
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

/** wrk's figures for one slice: requests per second, non-2xx, and the p50/p99 of its latency distribution (ms). */
function wrkLatency(url: string, body: string, connections: number, seconds: number) {
  const file = join(tmpdir(), `vigil-retention-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, `${body}\n`);
  try {
    const out = execFileSync(
      'wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', join(ROOT, 'bench/post.lua'), url],
      { env: { ...process.env, BODIES: file }, encoding: 'utf8', timeout: (seconds + 30) * 1000 },
    );
    const ms = (label: string) => {
      const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
      if (!m) return Number.NaN;
      return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2] as string]!;
    };
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
      non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
      p50: ms('50'),
      p99: ms('99'),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} never became ready`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * After a seed: its writes vacuumed and flushed, so that the slice after it (the same side every time otherwise) does
 * not pay for them.
 */
async function settle(db: postgres.Sql): Promise<void> {
  await db`vacuum analyze`;
  await db`checkpoint`;
}

/** A database with a backlog, and the checkout whose Vigil serves it (its own migrations made its schema). */
export interface Target {
  db: postgres.Sql;
  databaseUrl: string;
  root: string;
  /** The 32 executions ingest records into, made by the first slice on it. */
  ids: string[];
}

/** One kind of slice: `alone` (retention off), `before` (the other checkout), or a variant of this one's job. */
interface Side {
  name: string;
  target: Target;
  env: Record<string, string>;
}

/**
 * `BENCH_RETENTION_VARIANTS="with;b250:VIGIL_RETENTION_BATCH=250;p2:VIGIL_RETENTION_PAUSE_FACTOR=2"`: the deleting
 * sides of this checkout, each a name and the settings it adds to the product's (default: one, `with`, the product's
 * own settings). Every variant runs in each round, so a curve of settings is measured in the same minutes.
 */
export function parseVariants(spec: string | undefined): { name: string; env: Record<string, string> }[] {
  if (!spec) return [{ name: 'with', env: {} }];
  return spec.split(';').map((part) => {
    const [name, ...settings] = part.split(':');
    const env = Object.fromEntries(
      settings
        .join(':')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
    return { name: name as string, env };
  });
}

const backlogOf = async (db: postgres.Sql) =>
  Number((await db`select count(*)::int as n from executions where workflow_id = 'backlog'`)[0]?.n);

/**
 * The hour test's other half (issue 20): single-event ingest at c=32 alone, then while the retention job deletes a
 * backlog, in alternating slices of the same run. Each slice is a fresh Vigil (the product's settings; retention on
 * or off, or a variant's settings, is the only difference), warmed with 3 s of the same load, then measured for
 * `seconds` with wrk's latency distribution; the deleting instance serves the ingest itself, as every instance of a
 * fleet does. The "before" side (another checkout) runs on its own database, migrated by that checkout, with its own
 * backlog: the two schemas differ. Each backlog is topped up before a round whenever it could run out within one.
 * Prints every slice, the median of each side, and the ratios (rate with ÷ alone, p99 with ÷ alone), and each
 * side's deletion rate under that load.
 */
export async function measureUnderIngest(
  mine: Target,
  options: {
    backlog: number;
    rounds: number;
    seconds: number;
    before?: Target | undefined;
    variants: { name: string; env: Record<string, string> }[];
  },
  log: (m: string) => void,
  started: (c: ChildProcess) => void,
) {
  const ingested = async (db: postgres.Sql) =>
    Number(
      (
        await db`select coalesce(sum(last_sequence), 0)::bigint::text as n from executions
        where workflow_id = 'retention-ingest'`
      )[0]?.n,
    );
  const slices: {
    side: string;
    rps: number;
    eps: number;
    p50_ms: number;
    p99_ms: number;
    non2xx: number;
    deleted: number;
    deleted_per_s: number;
    backlog_left: number;
    load_1m: number;
  }[] = [];
  const deleting: Side[] = [
    ...(options.before ? [{ name: 'before', target: options.before, env: { VIGIL_RETENTION_DAYS: '30' } }] : []),
    ...options.variants.map((v) => ({ name: v.name, target: mine, env: { VIGIL_RETENTION_DAYS: '30', ...v.env } })),
  ];
  const alone: Side = { name: 'alone', target: mine, env: { VIGIL_RETENTION_DAYS: '0' } };
  const topUp = async (target: Target, left: number) => {
    log(`retention: topping the backlog of ${target.root} up from ${left} to ${options.backlog}`);
    await seedBacklog(target.db, options.backlog - left);
    await settle(target.db);
  };
  for (let round_ = 0; round_ < options.rounds; round_++) {
    // Every other round takes the sides in the other order, so that none always follows another.
    const order = [alone, ...deleting];
    for (const side of round_ % 2 === 0 ? order : [...order].reverse()) {
      const { target } = side;
      // A deleting slice never runs out of backlog: it is topped up before the slice whenever half of it is gone.
      const left = await backlogOf(target.db);
      if (side !== alone && left < options.backlog / 2) await topUp(target, left);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const child = startVigil(target.databaseUrl, port, side.env, target.root);
      started(child);
      await waitReady(base);
      if (target.ids.length === 0) target.ids = await createExecutions(base, 32, 'retention-ingest');
      const body = (id: string) =>
        JSON.stringify({
          query:
            'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { lastSequence } } }',
          variables: { id, e: [{ progress: { percentage: 50 } }] },
        });
      const bodies = target.ids.map(body).join('\n');
      const leftAtStart = await backlogOf(target.db);
      wrkLatency(`${base}/graphql`, bodies, 32, 3);
      // A deleting side is measured from the job's first deleted batch on (at most 60 s more of the same load), so
      // that no slice measures a job still starting, whatever its pause: a slice then holds whole batch-pause cycles.
      if (side !== alone) {
        const until = performance.now() + 60_000;
        while ((await backlogOf(target.db)) === leftAtStart && performance.now() < until) {
          wrkLatency(`${base}/graphql`, bodies, 32, 1);
        }
      }
      const left0 = await backlogOf(target.db);
      const events0 = await ingested(target.db);
      const t0 = performance.now();
      const r = wrkLatency(`${base}/graphql`, bodies, 32, options.seconds);
      const secs = (performance.now() - t0) / 1000;
      const events1 = await ingested(target.db);
      const left1 = await backlogOf(target.db);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      const slice = {
        side: side.name,
        rps: round(r.rps, 0),
        eps: round((events1 - events0) / secs, 0),
        p50_ms: round(r.p50, 2),
        p99_ms: round(r.p99, 2),
        non2xx: r.non2xx,
        deleted: left0 - left1,
        deleted_per_s: round((left0 - left1) / secs, 0),
        backlog_left: left1,
        load_1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      };
      slices.push(slice);
      log(`retention under ingest: ${JSON.stringify(slice)}`);
    }
  }
  const of = (side: string) => slices.filter((s) => s.side === side);
  const aloneSlices = of('alone');
  const rate = (xs: typeof slices) => median(xs.map((s) => s.eps));
  const p99 = (xs: typeof slices) => median(xs.map((s) => s.p99_ms));
  const summary = (name: string) => {
    const xs = of(name);
    const deletedPerS = xs.reduce((a, s) => a + s.deleted, 0) / (xs.length * options.seconds);
    return {
      ingest_eps: rate(xs),
      ingest_rate_ratio: round(rate(xs) / rate(aloneSlices), 3),
      ingest_p99_ms: p99(xs),
      ingest_p99_ratio: round(p99(xs) / p99(aloneSlices), 3),
      // The ratio of each round's pair (alone, then this side), for the spread the machine's neighbours cause.
      pair_ratios: xs.map((w, k) => ({
        rate: round(w.eps / (aloneSlices[k]?.eps ?? Number.NaN), 3),
        p99: round(w.p99_ms / (aloneSlices[k]?.p99_ms ?? Number.NaN), 3),
      })),
      deleted_per_s_under_ingest: round(deletedPerS, 0),
      backlog_1m_minutes_under_ingest: round(1_000_000 / deletedPerS / 60, 1),
      load_1m: xs.map((s) => s.load_1m),
    };
  };
  const sides = Object.fromEntries(deleting.map((s) => [s.name, summary(s.name)]));
  const main = sides[options.variants[0]?.name ?? 'with'] as ReturnType<typeof summary>;
  return {
    retention_ingest_alone_eps: rate(aloneSlices),
    retention_ingest_alone_p99_ms: p99(aloneSlices),
    retention_ingest_with_eps: main.ingest_eps,
    retention_ingest_rate_ratio: main.ingest_rate_ratio,
    retention_ingest_with_p99_ms: main.ingest_p99_ms,
    retention_ingest_p99_ratio: main.ingest_p99_ratio,
    retention_deleted_per_s_under_ingest: main.deleted_per_s_under_ingest,
    retention_1m_backlog_minutes_under_ingest: main.backlog_1m_minutes_under_ingest,
    retention_ingest_non2xx: slices.reduce((a, s) => a + s.non2xx, 0),
    retention_ingest_sides: sides,
    retention_ingest_slices: slices,
  };
}

/**
 * The "before" of an A/B (`BENCH_RETENTION_BEFORE`, another checkout): a database of its own on the same server,
 * migrated by that checkout's Vigil (started once, retention off).
 */
async function beforeTarget(
  db: postgres.Sql,
  databaseUrl: string,
  root: string,
  started: (c: ChildProcess) => void,
): Promise<Target> {
  await db`create database bench_before`;
  const url = new URL(databaseUrl);
  url.pathname = '/bench_before';
  const port = await freePort();
  const child = startVigil(url.toString(), port, { VIGIL_RETENTION_DAYS: '0' }, root);
  started(child);
  await waitReady(`http://127.0.0.1:${port}`);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { db: postgres(url.toString(), { max: 2, onnotice: () => {} }), databaseUrl: url.toString(), root, ids: [] };
}

/**
 * Every figure, written to bench/results/retention.json (merged into what is there, so that a run of one part keeps
 * the others'). `BENCH_RETENTION=footprint,ingest,deletion` narrows it to those parts (for iterating on one figure).
 */
export async function measureRetention(
  db: postgres.Sql,
  base: string,
  databaseUrl: string,
  quick: boolean,
  log: (m: string) => void,
  started: (c: ChildProcess) => void,
) {
  const parts = process.env.BENCH_RETENTION ? new Set(process.env.BENCH_RETENTION.split(',')) : null;
  const runs = (part: string) => !parts || parts.has(part);
  const file = join(ROOT, 'bench/results/retention.json');
  let results: Record<string, unknown> = {};
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {}
  const write = (more: object) => {
    const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ');
    results = { ...results, ...more, load_average_1m: Number(load), at: new Date().toISOString() };
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  };
  if (runs('footprint')) {
    const footprint = await measureFootprint(db, base, quick ? 1000 : 10_000, log);
    write(footprint); // kept should a later part not finish
    log(`retention: ${JSON.stringify(footprint)}`);
  }
  if (runs('ingest')) {
    const backlog = Number(process.env.BENCH_RETENTION_BACKLOG ?? (quick ? 20_000 : 100_000));
    const rounds = Number(process.env.BENCH_RETENTION_ROUNDS ?? (quick ? 3 : 4));
    const seconds = Number(process.env.BENCH_RETENTION_SECONDS ?? (quick ? 5 : 10));
    const beforeRoot = process.env.BENCH_RETENTION_BEFORE; // e.g. /work/wt/base: an A/B in the same run
    const before = beforeRoot ? await beforeTarget(db, databaseUrl, beforeRoot, started) : undefined;
    const mine: Target = { db, databaseUrl, root: ROOT, ids: [] };
    try {
      for (const target of before ? [mine, before] : [mine]) {
        log(`retention: seeding a backlog of ${backlog} due executions of 20 events (${target.root})`);
        await seedBacklog(target.db, backlog - (await backlogOf(target.db)));
        await settle(target.db);
      }
      const variants = parseVariants(process.env.BENCH_RETENTION_VARIANTS);
      const under = await measureUnderIngest(mine, { backlog, rounds, seconds, before, variants }, log, started);
      write(under);
      log(`retention: ${JSON.stringify({ ...under, retention_ingest_slices: undefined })}`);
    } finally {
      await before?.db.end();
    }
  }
  if (runs('deletion')) write(await measureDeletion(db, databaseUrl, quick ? 10_000 : 100_000, log, started));
  return results;
}
