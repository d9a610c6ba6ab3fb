/**
 * The change feed's part of `npm run bench` (`--only changes`, issue 19): 100 `executionChanges` subscribers (the
 * lean SSE path at POST /graphql) while 1,000 changes/s are written over HTTP, delivery latency from the writer's
 * send to each subscriber's receipt once the writes have run for 2 s (the first 2 s, the ramp from idle to the full
 * rate on 200 fresh connections, reported on their own), and whether every subscriber saw every execution's last
 * change; then a replay
 * of 100,000 changes (100,000 executions changed after a cursor) read by one subscriber, in seconds. Beside the
 * latencies, where a write's time went: the server's event-loop delay and CPU over the writes (its /metrics), and
 * what the database saw (lock waits; transactions left idle by the server or in COMMIT for over 50 ms).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type postgres from 'postgres';
import { client, gql, open } from './changes-sockets.js';

/** `BENCH_CHANGES_SUBSCRIBERS` changes it (to see what delivery costs beside the writes). */
const SUBSCRIBERS = Number(process.env.BENCH_CHANGES_SUBSCRIBERS ?? 100);
const RATE = 1000;
const EXECUTIONS = 200;
const REPLAY = 100_000;
/**
 * The writes run this long at the full rate before delivery is measured: the ramp from idle (200 writer connections
 * opened at once, the server's pool and the database's backends warming) put p99 at 160–240 ms in the first second
 * and under 100 ms after it. Its own p99 is reported beside (`changes_warmup_p99_ms`).
 */
const WARMUP_MS = 2000;

const create = async (base: string, workflowId: string) =>
  (
    await gql<{ createExecution: { id: string } }>(
      base,
      'mutation($w: String!) { createExecution(input: { workflowId: $w }) { id } }',
      { w: workflowId },
    )
  ).createExecution.id;

const RECORD = `mutation($id: ID!, $p: Float!) {
  recordExecutionEvents(executionId: $id, events: [{ progress: { percentage: $p } }]) { execution { lastSequence } }
}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server's own figures from its /metrics (prom-client's defaults): its event loop's delay since the last scrape
 * (prom-client resets the histogram when it collects) and its CPU seconds so far.
 */
async function serverFigures(base: string): Promise<{ loopP99Ms: number; loopMaxMs: number; cpuSeconds: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    loopP99Ms: value('vigil_nodejs_eventloop_lag_p99_seconds') * 1000,
    loopMaxMs: value('vigil_nodejs_eventloop_lag_max_seconds') * 1000,
    cpuSeconds: value('vigil_process_cpu_seconds_total'),
  };
}

interface DatabaseSamples {
  samples: number;
  lockWaits: number;
  idleInTx50: number;
  commit50: number;
  idleInTxMaxMs: number;
  commitMaxMs: number;
}

/**
 * What the database sees while the writes run, sampled every 20 ms on its own connection: lock waits (ungranted
 * locks), and transactions open with nothing running ("idle in transaction": waiting for the server's next
 * statement) or in COMMIT, longer than 50 ms. Returns its stop, which answers the counts.
 */
function sampleDatabase(sql: postgres.Sql): () => Promise<DatabaseSamples> {
  let on = true;
  const counts: DatabaseSamples = {
    samples: 0,
    lockWaits: 0,
    idleInTx50: 0,
    commit50: 0,
    idleInTxMaxMs: 0,
    commitMaxMs: 0,
  };
  const done = (async () => {
    while (on) {
      const [row] = await sql`select
          (select count(*) from pg_locks where not granted)::int as waits,
          count(*) filter (where a.state = 'idle in transaction' and now() - a.state_change > interval '50 ms')::int as idle,
          count(*) filter (where a.state = 'active' and a.query ilike 'commit%' and now() - a.query_start > interval '50 ms')::int as commits,
          coalesce(max(extract(epoch from now() - a.state_change)) filter (where a.state = 'idle in transaction'), 0) * 1000 as idle_max,
          coalesce(max(extract(epoch from now() - a.query_start)) filter (where a.state = 'active' and a.query ilike 'commit%'), 0) * 1000 as commit_max
        from pg_stat_activity a where a.datname = current_database() and a.pid <> pg_backend_pid()`;
      counts.samples += 1;
      counts.lockWaits += Number(row?.waits ?? 0);
      counts.idleInTx50 += Number(row?.idle ?? 0);
      counts.commit50 += Number(row?.commits ?? 0);
      counts.idleInTxMaxMs = Math.max(counts.idleInTxMaxMs, Number(row?.idle_max ?? 0));
      counts.commitMaxMs = Math.max(counts.commitMaxMs, Number(row?.commit_max ?? 0));
      await sleep(20);
    }
  })();
  return async () => {
    on = false;
    await done;
    return counts;
  };
}
/**
 * The change log's frontier over time, sampled every 5 ms on its own connection: `(ms, xmin)` pairs, so the moment
 * the frontier passed a transaction's id is known to 5 ms (the first sample above it). Returns its stop.
 */
function sampleFrontier(sql: postgres.Sql): () => Promise<{ at: number[]; frontier: bigint[] }> {
  let on = true;
  const at: number[] = [];
  const frontier: bigint[] = [];
  const done = (async () => {
    while (on) {
      const [row] = await sql`select pg_snapshot_xmin(pg_current_snapshot())::text as f`;
      at.push(performance.now());
      frontier.push(BigInt(row?.f as string));
      await sleep(5);
    }
  })();
  return async () => {
    on = false;
    await done;
    return { at, frontier };
  };
}

/** The first sample whose frontier is above `xid` (the frontier only grows), or -1. */
function passedAt(series: { at: number[]; frontier: bigint[] }, xid: bigint): number {
  let lo = 0;
  let hi = series.frontier.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((series.frontier[mid] as bigint) > xid) hi = mid;
    else lo = mid + 1;
  }
  return lo < series.at.length ? (series.at[lo] as number) : -1;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** `BENCH_CHANGES=live,replay` narrows the part to those figures (both by default), for iterating on one. */
export async function measureChanges(
  sql: postgres.Sql,
  base: string,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  const parts = new Set((process.env.BENCH_CHANGES ?? 'live,replay').split(','));
  return {
    ...(parts.has('live') ? await measureLive(sql, base, seconds, log) : {}),
    ...(parts.has('replay') ? await measureReplay(sql, base, log) : {}),
  };
}

async function measureLive(
  sql: postgres.Sql,
  base: string,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  log(
    `changes: ${SUBSCRIBERS} subscribers, ${RATE} changes/s for ${WARMUP_MS / 1000} s of warm-up and ${seconds} s measured`,
  );
  const filter = { workflowId: 'bench-changes' };
  const ids: string[] = [];
  for (let i = 0; i < EXECUTIONS; i++) ids.push(await create(base, 'bench-changes'));
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const warmupLatencies: number[] = [];
  /** Sends from here on are measured (set when the writes start). */
  let measuredFrom = Number.POSITIVE_INFINITY;
  const last: Map<string, number>[] = [];
  const aborts: (() => void)[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const seen = new Map<string, number>();
    last.push(seen);
    aborts.push(
      await open(base, { filter }, (id, sequence) => {
        const key = `${id}:${sequence}`;
        const at = sent.get(key);
        if (at !== undefined) {
          const now = performance.now();
          (at >= measuredFrom ? latencies : warmupLatencies).push(now - at);
          if (!firstSeen.has(key)) firstSeen.set(key, now);
        }
        if ((seen.get(id) ?? -1) < sequence) seen.set(id, sequence);
      }),
    );
  }
  // Live once a change made now reaches every subscriber.
  for (let tries = 0; tries < 100; tries++) {
    const probe = ids[0] as string;
    const { recordExecutionEvents } = await gql<{ recordExecutionEvents: { execution: { lastSequence: number } } }>(
      base,
      RECORD,
      { id: probe, p: 1 },
    );
    await sleep(100);
    if (last.every((s) => (s.get(probe) ?? -1) >= recordExecutionEvents.execution.lastSequence)) break;
  }
  const baseSequence = new Map<string, number>();
  for (const id of ids) baseSequence.set(id, (last[0] as Map<string, number>).get(id) ?? 0);
  latencies.length = 0;
  warmupLatencies.length = 0;

  // Each execution written by one loop at RATE / EXECUTIONS per second, so its sequence after k writes is known.
  const expected = new Map<string, number>();
  const started = performance.now();
  measuredFrom = started + WARMUP_MS;
  const end = measuredFrom + seconds * 1000;
  const perExecutionMs = (1000 * EXECUTIONS) / RATE;
  const writers = await Promise.all(ids.map(() => client(base)));
  // Every transaction of the writes below takes an id at or above this (the probes above have all ended).
  const [{ f: firstXid } = { f: '0' }] = await sql`select pg_snapshot_xmin(pg_current_snapshot())::text as f`;
  const serverBefore = await serverFigures(base);
  const stopSampling = sampleDatabase(sql);
  const stopFrontier = sampleFrontier(sql);
  // The load generator's own lag (its event loop's delay while writing): what of the latencies it measured is its own.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  /** From a write's send to its answer: what of the delivery latency is the write itself. */
  const writeLatencies: number[] = [];
  /** When each write's answer came back (its commit is before it). */
  const answers = new Map<string, number>();
  /** When each change first reached a subscriber. */
  const firstSeen = new Map<string, number>();
  await Promise.all(
    ids.map(async (id, i) => {
      const writer = writers[i] as Awaited<ReturnType<typeof client>>;
      let sequence = baseSequence.get(id) ?? 0;
      let next = started + (i * perExecutionMs) / EXECUTIONS;
      while (next < end) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        sequence += 1;
        const at = performance.now();
        sent.set(`${id}:${sequence}`, at);
        const r = await writer.gql<{ recordExecutionEvents: { execution: { lastSequence: number } } }>(RECORD, {
          id,
          p: sequence % 100,
        });
        const answered = performance.now();
        if (at >= measuredFrom) writeLatencies.push(answered - at);
        answers.set(`${id}:${sequence}`, answered);
        sequence = r.recordExecutionEvents.execution.lastSequence;
        next += perExecutionMs;
      }
      expected.set(id, sequence);
    }),
  );
  for (const writer of writers) writer.close();
  loop.disable();
  const serverAfter = await serverFigures(base);
  const database = await stopSampling();
  const frontierSeries = await stopFrontier();
  const loopP99 = loop.percentile(99) / 1e6;
  const written =
    [...expected.values()].reduce((a, n) => a + n, 0) - [...baseSequence.values()].reduce((a, n) => a + n, 0);
  const elapsed = (performance.now() - started) / 1000;
  const settle = Date.now() + 10_000;
  const missingOf = () =>
    last.reduce((n, seen) => n + [...expected].filter(([id, s]) => (seen.get(id) ?? -1) < s).length, 0);
  while (missingOf() > 0 && Date.now() < settle) await sleep(100);
  const missing = missingOf();
  for (const abort of aborts) abort();
  const sorted = latencies.sort((a, b) => a - b);
  const stages = await stagesOf(sql, ids, baseSequence, BigInt(firstXid as string), measuredFrom, {
    sent,
    answers,
    firstSeen,
    frontier: frontierSeries,
  });
  const writes = writeLatencies.sort((a, b) => a - b);
  const cpuSeconds = serverAfter.cpuSeconds - serverBefore.cpuSeconds;
  return {
    changes_subscribers: SUBSCRIBERS,
    changes_rate: round(written / elapsed, 0),
    changes_delivered: sorted.length,
    changes_p50_ms: round(percentile(sorted, 0.5)),
    changes_p99_ms: round(percentile(sorted, 0.99)),
    changes_warmup_p99_ms: round(
      percentile(
        warmupLatencies.sort((a, b) => a - b),
        0.99,
      ),
    ),
    changes_write_p50_ms: round(percentile(writes, 0.5)),
    changes_write_p99_ms: round(percentile(writes, 0.99)),
    changes_missing: missing,
    changes_bench_loop_p99_ms: round(loopP99),
    changes_server_loop_p99_ms: round(serverAfter.loopP99Ms),
    changes_server_loop_max_ms: round(serverAfter.loopMaxMs),
    changes_server_cpu_share: round(cpuSeconds / elapsed),
    // What one change costs the server: its write, and its delivery to every subscriber.
    changes_server_cpu_us_per_change: round((cpuSeconds * 1e6) / written, 0),
    changes_db_lock_waits: database.lockWaits,
    changes_db_idle_in_tx_over_50ms: database.idleInTx50,
    changes_db_idle_in_tx_max_ms: round(database.idleInTxMaxMs, 0),
    changes_db_commit_over_50ms: database.commit50,
    changes_db_commit_max_ms: round(database.commitMaxMs, 0),
    changes_db_samples: database.samples,
    ...stages,
  };
}

/**
 * A replay of 100,000 changes (100,000 executions changed after a cursor) read by one subscriber: seconds from the
 * subscription's send to its last change, and the server's CPU seconds over it (less moved by the neighbours' load).
 */
async function measureReplay(
  sql: postgres.Sql,
  base: string,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  log(`changes: replay of ${REPLAY.toLocaleString('en')} changes`);
  const { executionChangesCursor: cursor } = await gql<{ executionChangesCursor: string }>(
    base,
    '{ executionChangesCursor }',
  );
  await sql.unsafe(
    `insert into executions (id, organization_id, environment, workflow_id, trigger, root_execution_id, created_at, updated_at)
     select id, 'default', 'test', 'bench-replay', '{"type":"manual"}'::jsonb, id, now(), now()
     from (select gen_random_uuid() as id from generate_series(1, ${REPLAY})) as s`,
  );
  let replayed = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const serverBefore = await serverFigures(base);
  const replayStart = performance.now();
  const abort = await open(base, { after: cursor, filter: { workflowId: 'bench-replay' } }, () => {
    replayed += 1;
    if (replayed >= REPLAY) done();
  });
  await Promise.race([finished, sleep(120_000)]);
  const replaySeconds = (performance.now() - replayStart) / 1000;
  abort();
  const serverAfter = await serverFigures(base);
  return {
    changes_replay_rows: replayed,
    changes_replay_s: round(replaySeconds),
    changes_replay_server_cpu_s: round(serverAfter.cpuSeconds - serverBefore.cpuSeconds),
  };
}

/**
 * Where a change's time goes, per write (p50/p99 of each stage): send → answer (the write; its commit is before the
 * answer), answer → the frontier passes its transaction's id (held behind older transactions still open; 0 when it
 * had passed already), and frontier → the first subscriber has it (the tail's read, the frames, the socket; within
 * the 5 ms of the frontier's samples). A write's transaction id is read back from the change log: the k-th write
 * of an execution is its k-th transaction there (each execution is written by one loop, one write at a time).
 */
async function stagesOf(
  sql: postgres.Sql,
  ids: string[],
  baseSequence: Map<string, number>,
  firstXid: bigint,
  measuredFrom: number,
  seen: {
    sent: Map<string, number>;
    answers: Map<string, number>;
    firstSeen: Map<string, number>;
    frontier: { at: number[]; frontier: bigint[] };
  },
): Promise<Record<string, number>> {
  const rows = await sql<{ id: string; xid: string }[]>`
    select execution_id::text as id, xid::text as xid from execution_changes
    where execution_id = any(${ids}::uuid[]) and xid >= ${firstXid.toString()}::xid8
    group by execution_id, xid order by execution_id, min(seq)`;
  const k = new Map<string, number>();
  const held: number[] = [];
  const read: number[] = [];
  for (const row of rows) {
    const n = (k.get(row.id) ?? 0) + 1;
    k.set(row.id, n);
    const key = `${row.id}:${(baseSequence.get(row.id) ?? 0) + n}`;
    if ((seen.sent.get(key) ?? 0) < measuredFrom) continue;
    const answered = seen.answers.get(key);
    const delivered = seen.firstSeen.get(key);
    const passed = passedAt(seen.frontier, BigInt(row.xid));
    if (answered === undefined || delivered === undefined || passed < 0) continue;
    held.push(Math.max(0, passed - answered));
    read.push(Math.max(0, delivered - Math.max(passed, answered)));
  }
  held.sort((a, b) => a - b);
  read.sort((a, b) => a - b);
  return {
    changes_stage_writes: held.length,
    changes_stage_held_p50_ms: round(percentile(held, 0.5)),
    changes_stage_held_p99_ms: round(percentile(held, 0.99)),
    changes_stage_read_p50_ms: round(percentile(read, 0.5)),
    changes_stage_read_p99_ms: round(percentile(read, 0.99)),
    changes_stage_frontier_samples: seen.frontier.at.length,
  };
}
