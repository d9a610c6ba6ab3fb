/**
 * `npm run bench` (`-- --quick` for a short run): starts a durable PostgreSQL (fsync and synchronous_commit on),
 * one Vigil process, a bare node:http baseline and the load generators (wrk, and Node clients) in their own
 * processes; measures the keys of issue 7; writes bench/results/latest.json and prints a table. Stops everything
 * it started. Needs `wrk` (Debian: apt-get install wrk).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { freePort, startPostgres } from '../test/support/postgres.js';
import { measureChanges } from './changes.js';
import { createExecutions } from './clients/common.js';
import { measureModel } from './model.js';
import { cpuMs } from './proc.js';
import { measureRetention } from './retention.js';
import { measureStartup, startupTable } from './startup.js';
import { buildVigil, floorChild, vigilArgs } from './user/http.js';
import { measureUser, userTable } from './user/measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
/**
 * `--only read,ingest,latency,memory,waitmany,logs,changes,retention,model,startup,user`: run some parts (for iterating on one
 * figure; `BENCH_MEMORY=sse,wait,logs` picks what the memory part holds). `user` is what users feel, beside the stock
 * peer (bench/user/measure.ts); printed, kept only by full runs;
 * `BENCH_USER=delivery,fanout,wake,herd,ingest,read,memory` narrows it to those parts, and `BENCH_LOGS=ingest,delivery,
 * fanout,hold` the logs part. Vigil runs from dist/, built first (`BENCH_VIGIL`: bench/user/http.ts).
 */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null;
const runs = (part: string) => !only || only.has(part);
const plan = quick
  ? { wrkSeconds: 4, holdSse: 2000, holdWait: 2000, deliveryN: 100, fanoutN: 5, wakeN: 50, herdN: 2 }
  : { wrkSeconds: 10, holdSse: 10_000, holdWait: 10_000, deliveryN: 300, fanoutN: 10, wakeN: 100, herdN: 3 };
const deadline =
  Date.now() +
  (quick ? 120_000 : 600_000) +
  (runs('startup') ? 900_000 : 0) +
  (runs('model') ? 1_200_000 : 0) +
  (runs('user') ? 900_000 : 0) +
  (runs('waitmany') ? 300_000 : 0) +
  (runs('retention') ? 1_800_000 : 0);
const children: ChildProcess[] = [];
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function checkWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      log('wrk is not installed: it is the load generator for throughput. Install it with: apt-get install -y wrk');
      process.exit(2);
    }
  }
}

/**
 * The floor (bench/user/floor.ts, issue 22 item 3): a bare node:http + postgres.js handler doing the same durable
 * commit and socket write and nothing else, on its own table of the same database. Figures that a goal puts below
 * what this machine can do are printed beside it, measured in the same run.
 */
async function startFloor(databaseUrl: string): Promise<{ base: string; stop: () => void }> {
  const c = await floorChild(ROOT, { DATABASE_URL: databaseUrl, PORT: String(await freePort()) });
  children.push(c.proc);
  const { port } = await c.next<{ port: number }>('port', 60_000);
  return { base: `http://127.0.0.1:${port}`, stop: () => c.proc.kill('SIGTERM') };
}

/** A load generator or baseline (bench/…), from its TypeScript source. */
function node(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return start(['--import', 'tsx', script, ...args], env);
}

/** A Vigil server, started as `npm start` starts it (from dist/, built at the start of the run: `buildVigil`). */
function vigil(env: Record<string, string>): ChildProcess {
  return start(vigilArgs(ROOT), env);
}

function start(nodeArgs: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Resolves with the first JSON line a child prints that has `key`. */
function jsonLine<T>(child: ChildProcess, key: string, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "${key}" from child in ${ms} ms`)), ms);
    child.stdout?.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if (key in obj) {
            clearTimeout(timer);
            resolve(obj as T);
          }
        } catch {}
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before "${key}"`)));
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

function wrk(url: string, bodies: string[], connections: number, seconds: number): { rps: number; non2xx: number } {
  const file = join(tmpdir(), `vigil-bench-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, `${bodies.join('\n')}\n`);
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', join(ROOT, 'bench/post.lua'), url],
    {
      env: { ...process.env, BODIES: file },
      encoding: 'utf8',
      timeout: (seconds + 30) * 1000,
    },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, non2xx };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  const startupOnly = only?.size === 1 && only.has('startup');
  if (!startupOnly) checkWrk();
  buildVigil(ROOT, log);
  log(`starting a durable PostgreSQL (${quick ? 'quick run' : 'full run'})`);
  const pg = await startPostgres({ durable: true, maxConnections: 200 });
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  await admin`create database bench`;
  const url = new URL(pg.url);
  url.pathname = '/bench';
  const databaseUrl = url.toString();
  const results: Record<string, unknown> = {};
  if (runs('startup')) {
    // First, on a quiet machine: no other Vigil of this run is up yet.
    const startup = await measureStartup({
      databaseUrl,
      runs: quick ? 3 : 5,
      idleMs: 3000,
      log,
      started: (c) => children.push(c),
    });
    results.startup = startup;
    writeFileSync(join(ROOT, 'bench/results/startup.json'), `${JSON.stringify(startup, null, 2)}\n`);
    process.stdout.write(startupTable(startup));
    if (startupOnly) {
      await admin.end();
      await pg.stop();
      return;
    }
  }
  try {
    const vigilPort = await freePort();
    const server = vigil({
      DATABASE_URL: databaseUrl,
      PORT: String(vigilPort),
      LOG_LEVEL: 'warn',
      VIGIL_MAX_WAITERS: '100000',
      VIGIL_MAX_STREAMS: '100000',
      VIGIL_RETENTION_DAYS: '0', // retention's part starts its own instance
    });
    const base = `http://127.0.0.1:${vigilPort}`;
    const barePort = await freePort();
    const bare = node('bench/bare-server.ts', [], {
      DATABASE_URL: databaseUrl,
      PORT: String(barePort),
      FIELDS: 'internal',
    });
    await waitHealthy(base);
    await jsonLine(bare, 'port');
    const [pgVersion] = await admin`select version()`;
    const db = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const countEvents = async () => Number((await db`select count(*)::int as n from execution_events`)[0]?.n ?? 0);

    // 1. Reads: execution(id) over POST /graphql vs the bare handler, alternating, same run.
    if (runs('read')) {
      log('graphql_read_ratio');
      const [readId] = await createExecutions(base, 1, 'read');
      const readBody = JSON.stringify({
        query: 'query($id: ID!) { execution(id: $id) { id status workflowId createdAt } }',
        variables: { id: readId },
      });
      wrk(`${base}/graphql`, [readBody], 32, 2);
      wrk(`http://127.0.0.1:${barePort}/`, [readBody], 32, 2);
      // Five alternating pairs, the ratio of each pair taken, the median reported: on a shared 2-core machine the
      // ratio of one pair swings by ±0.08 with what the neighbours do, a median of pairs much less.
      const rounds = 5;
      const seconds = Math.max(1, Math.round(plan.wrkSeconds / rounds));
      const pairs: { vigil: number; bare: number }[] = [];
      for (let round_ = 0; round_ < rounds; round_++) {
        const vigil = wrk(`${base}/graphql`, [readBody], 32, seconds).rps;
        const bare = wrk(`http://127.0.0.1:${barePort}/`, [readBody], 32, seconds).rps;
        pairs.push({ vigil, bare });
      }
      const ratios = pairs.map((p) => p.vigil / p.bare).sort((a, b) => a - b);
      results.graphql_rps = round(pairs.reduce((a, p) => a + p.vigil, 0) / rounds, 0);
      results.bare_rps = round(pairs.reduce((a, p) => a + p.bare, 0) / rounds, 0);
      results.graphql_read_ratio = round(ratios[Math.floor(rounds / 2)] ?? 0, 3);
      results.graphql_read_ratios = ratios.map((r) => round(r, 3));
    }

    // 2. Ingest: durable events per second, counted in the table.
    if (runs('ingest')) {
      log('ingest_single_eps');
      const ingestIds = await createExecutions(base, 32, 'ingest');
      const record = (id: string, events: unknown[]) =>
        JSON.stringify({
          query:
            'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { lastSequence } } }',
          variables: { id, e: events },
        });
      const single = ingestIds.map((id) => record(id, [{ progress: { percentage: 50 } }]));
      wrk(`${base}/graphql`, single, 32, 2);
      let before = await countEvents();
      let started = performance.now();
      const s1 = wrk(`${base}/graphql`, single, 32, plan.wrkSeconds);
      results.ingest_single_eps = round(((await countEvents()) - before) / ((performance.now() - started) / 1000), 0);
      results.ingest_single_non2xx = s1.non2xx;

      log('ingest_batch_eps');
      const batch = ingestIds.map((id) =>
        record(
          id,
          Array.from({ length: 100 }, (_, i) => ({ progress: { percentage: i } })),
        ),
      );
      before = await countEvents();
      started = performance.now();
      const s2 = wrk(`${base}/graphql`, batch, 16, plan.wrkSeconds);
      results.ingest_batch_eps = round(((await countEvents()) - before) / ((performance.now() - started) / 1000), 0);
      results.ingest_batch_non2xx = s2.non2xx;
    }

    // 3. Latency: commit → receipt / answer, measured in a client process.
    const latency = async (mode: string, n: number, k: number) => {
      log(`latency ${mode} (n=${n}, k=${k})`);
      return jsonLine<{ p50_ms: number; p99_ms: number; max_ms: number }>(
        node('bench/clients/latency.ts', [
          '--base',
          base,
          '--db',
          databaseUrl,
          '--mode',
          mode,
          '--n',
          String(n),
          '--k',
          String(k),
        ]),
        'p99_ms',
        300_000,
      );
    };
    if (runs('latency')) {
      const delivery = await latency('delivery', plan.deliveryN, 1);
      results.delivery_p50_ms = delivery.p50_ms;
      results.delivery_p99_ms = delivery.p99_ms;
      results.fanout_1k_p99_ms = (await latency('fanout', plan.fanoutN, 1000)).p99_ms;
      const wake = await latency('wake', plan.wakeN, 1);
      results.wake_p50_ms = wake.p50_ms;
      results.wake_p99_ms = wake.p99_ms;
      results.herd_1k_p99_ms = (await latency('herd', plan.herdN, 1000)).p99_ms;
    }

    // 4. Memory: connections held by one fresh process (so earlier phases' garbage does not hide the growth), RSS
    // above its baseline (idle after a 2-second warm-up of reads), divided by the connections.
    const hold = async (kind: 'sse' | 'wait' | 'logs', n: number) => {
      log(`holding ${n} ${kind}`);
      const port = await freePort();
      const fresh = vigil({
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        VIGIL_MAX_WAITERS: '100000',
        VIGIL_MAX_STREAMS: '100000',
      });
      const base = `http://127.0.0.1:${port}`;
      await waitHealthy(base);
      const pid = fresh.pid as number;
      // A warmed-up idle server is the baseline: V8 grows its young generation to its working size under the first
      // load (tens of MB, whatever the connections), which is not what a held connection costs.
      const [warmId] = await createExecutions(base, 1, 'warm');
      const warmBody = JSON.stringify({
        query: 'query($id: ID!) { execution(id: $id) { id status } }',
        variables: { id: warmId },
      });
      wrk(`${base}/graphql`, [warmBody], 32, 2);
      await new Promise((r) => setTimeout(r, 2000));
      const baseline = rssKb(pid);
      const client = node('bench/clients/hold.ts', [
        '--base',
        base,
        '--kind',
        kind,
        '--n',
        String(n),
        '--executions',
        '1000',
      ]);
      const ready = await jsonLine<{ ready: number; failed: number }>(client, 'ready', 240_000);
      await new Promise((r) => setTimeout(r, 2000));
      const held = rssKb(pid);
      client.stdin?.write('release\n');
      await new Promise((r) => client.once('exit', r));
      return {
        held: ready.ready,
        failed: ready.failed,
        kbPerConn: round((held - baseline) / Math.max(1, ready.ready), 2),
      };
    };
    if (runs('memory')) {
      // `BENCH_MEMORY=sse,wait,logs` narrows (or widens) the kinds held: a follower here is measured exactly as the
      // logs part measures it (a fresh process), without that part's ingest and delivery figures.
      const kinds = new Set((process.env.BENCH_MEMORY ?? 'sse,wait').split(','));
      if (kinds.has('sse')) {
        const s = await hold('sse', plan.holdSse);
        results.sse_subscribers = s.held;
        results.sse_kb_per_conn = s.kbPerConn;
      }
      if (kinds.has('wait')) {
        const w = await hold('wait', plan.holdWait);
        results.waiters = w.held;
        results.waiter_kb = w.kbPerConn;
      }
      if (kinds.has('logs')) {
        const l = await hold('logs', plan.holdSse);
        results.logs_followers = l.held;
        results.logs_follower_kb = l.kbPerConn;
      }
    }

    // 4c. What users feel (issue 22): end to end over HTTP, beside the stock peer in the same run.
    if (runs('user')) {
      results.user = await measureUser({
        root: ROOT,
        databaseUrl,
        vigil: base,
        vigilPid: server.pid,
        quick,
        parts: process.env.BENCH_USER ? new Set(process.env.BENCH_USER.split(',')) : null,
        log,
        started: (c) => children.push(c),
      });
    }

    // 4b. Waiting on many (issue 19): waitForExecutions of 10 ids each in a fresh process. KB per waiter: RSS idle
    // before and after holding 10,000 on 1,000 sets of 10 executions (the heap's own steps, several MB, are ±15 KB
    // over 1,000 waiters, < 2 over 10,000), after a warm-up of 100 opened and closed; then all but 1,000 (one per
    // set) close, and each of those is released by the request that ends its last execution.
    if (runs('waitmany')) {
      const n = quick ? 200 : 1000;
      const holdMany = quick ? 1000 : 10_000;
      log(`holding ${holdMany} waitForExecutions of 10 ids, releasing ${n}`);
      const port = await freePort();
      const fresh = vigil({
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        VIGIL_MAX_WAITERS: '100000',
      });
      const freshBase = `http://127.0.0.1:${port}`;
      await waitHealthy(freshBase);
      const [warmId] = await createExecutions(freshBase, 1, 'warm');
      const warmBody = JSON.stringify({
        query: 'query($id: ID!) { execution(id: $id) { id status } }',
        variables: { id: warmId },
      });
      wrk(`${freshBase}/graphql`, [warmBody], 32, 2);
      // The executions are created through the other instance: the process measured serves only the waits. Each
      // release is followed by one on the floor, so both are taken under the same load.
      const floor = await startFloor(databaseUrl);
      const client = node('bench/clients/wait-many.ts', [
        '--floor',
        floor.base,
        '--base',
        freshBase,
        '--create-base',
        base,
        '--n',
        String(n),
        '--hold',
        String(holdMany),
        '--k',
        '10',
      ]);
      await jsonLine(client, 'created', 900_000);
      client.stdin?.write('warm\n');
      await jsonLine(client, 'warmed', 120_000);
      await new Promise((r) => setTimeout(r, 2000));
      const baseline = rssKb(fresh.pid as number);
      client.stdin?.write('hold\n');
      // Read once the server has held them all and been idle 2 s (the client waits for both before it answers).
      const ready = await jsonLine<{ ready: number; failed: number }>(client, 'ready', 600_000);
      const heldRss = rssKb(fresh.pid as number);
      results.waitmany_held = ready.ready;
      results.waitmany_kb_per_waiter = round((heldRss - baseline) / Math.max(1, ready.ready), 2);
      log(`${results.waitmany_kb_per_waiter} KB per held waiter; releasing ${n} waits, one at a time`);
      client.stdin?.write('go\n');
      const released = await jsonLine<{
        p50_ms: number;
        p99_ms: number;
        max_ms: number;
        single_p50_ms: number;
        single_p99_ms: number;
        floor_p50_ms: number;
        floor_p99_ms: number;
      }>(client, 'p99_ms', 600_000);
      floor.stop();
      results.waitmany_waiters = n;
      results.waitmany_release_p50_ms = released.p50_ms;
      results.waitmany_release_p99_ms = released.p99_ms;
      results.waitmany_release_max_ms = released.max_ms;
      results.waitmany_floor_release_p50_ms = released.floor_p50_ms;
      results.waitmany_floor_release_p99_ms = released.floor_p99_ms;
      // waitForExecution released the same way in the same run: what this machine's load does to one wake.
      results.waitmany_single_wait_p50_ms = released.single_p50_ms;
      results.waitmany_single_wait_p99_ms = released.single_p99_ms;
      fresh.kill('SIGTERM');
    }

    // 5. The run model at 1,000,000 executions (issue 17), last: it fills the database the other parts use.
    // 5. Logs (issue 18): durable ingest of 100-line calls at c=16, counted in execution_logs; a line's delivery to
    // one and to 1,000 followers from the writing client's HTTP send; what a held follower (the text endpoint) costs.
    if (runs('logs')) {
      const logParts = new Set((process.env.BENCH_LOGS ?? 'ingest,delivery,fanout,hold').split(','));
      log('logs_ingest_lines_per_s');
      const logIds = await createExecutions(base, 32, 'bench-logs-ingest');
      const text = (i: number) =>
        `2026-12-05T22:00:00.000Z INFO  worker-7 loader: batch ${String(i).padStart(6, '0')} copied 1000 rows from orders_eu into wh-2.staging in 12 ms\n`;
      const lines = Array.from({ length: 100 }, (_, i) => ({ log: { text: text(i) } }));
      const bodies = logIds.map((id) =>
        JSON.stringify({
          query:
            'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { lastSequence } } }',
          variables: { id, e: lines },
        }),
      );
      const countLines = async () => Number((await db`select count(*)::int as n from execution_logs`)[0]?.n ?? 0);
      // The warm-up also leaves lines for the followers below to start behind.
      wrk(`${base}/graphql`, bodies, 16, 2);
      if (logParts.has('ingest')) {
        // CPU per line, beside the rate: on a shared machine the rate moves with the neighbours' load, what a line
        // costs the server and the database much less. The database's share is its processes that run throughout
        // (backends, WAL writer, checkpointer: pg_stat_activity lists them all).
        const pgPids = async () =>
          (await db`select pid from pg_stat_activity`).map((r) => Number(r.pid)).filter((pid) => pid > 0);
        const pids = await pgPids();
        const pgCpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
        const before = await countLines();
        const [serverBefore, pgBefore] = [cpuMs(server.pid ?? 0), pgCpu()];
        const started = performance.now();
        const r = wrk(`${base}/graphql`, bodies, 16, plan.wrkSeconds);
        const [serverAfter, pgAfter] = [cpuMs(server.pid ?? 0), pgCpu()];
        const lines = (await countLines()) - before;
        results.logs_ingest_lines_per_s = round(lines / ((performance.now() - started) / 1000), 0);
        results.logs_ingest_server_cpu_us_per_line = round(((serverAfter - serverBefore) * 1000) / lines, 1);
        results.logs_ingest_db_cpu_us_per_line = round(((pgAfter - pgBefore) * 1000) / lines, 1);
        log(
          `logs ingest: ${results.logs_ingest_lines_per_s} lines/s, CPU per line: server ${results.logs_ingest_server_cpu_us_per_line} µs, database ${results.logs_ingest_db_cpu_us_per_line} µs`,
        );
        results.logs_ingest_non2xx = r.non2xx;
        results.logs_line_bytes = Buffer.byteLength(text(0));
      }
      const follow = async (n: number, k: number, at = base) => {
        log(`logs delivery (n=${n}, k=${k})${at === base ? '' : ' on the floor'}`);
        return jsonLine<{ p50_ms: number; p99_ms: number; max_ms: number }>(
          node('bench/clients/logs.ts', ['--base', at, '--n', String(n), '--k', String(k)]),
          'p99_ms',
          300_000,
        );
      };
      if (logParts.has('delivery')) {
        // Vigil and the floor (one durable INSERT of the line, then the frame) in alternating slices: the median of
        // each one's slices, so a noisy minute weighs on both.
        const floor = await startFloor(databaseUrl);
        const slices = {
          vigil: [] as { p50_ms: number; p99_ms: number }[],
          floor: [] as { p50_ms: number; p99_ms: number }[],
        };
        for (let i = 0; i < 3; i++) {
          slices.vigil.push(await follow(plan.deliveryN, 1));
          slices.floor.push(await follow(plan.deliveryN, 1, floor.base));
        }
        floor.stop();
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
        results.logs_delivery_p50_ms = median(slices.vigil.map((x) => x.p50_ms));
        results.logs_delivery_p99_ms = median(slices.vigil.map((x) => x.p99_ms));
        results.logs_floor_delivery_p50_ms = median(slices.floor.map((x) => x.p50_ms));
        results.logs_floor_delivery_p99_ms = median(slices.floor.map((x) => x.p99_ms));
      }
      if (logParts.has('fanout')) results.logs_fanout_1k_p99_ms = (await follow(plan.fanoutN, 1000)).p99_ms;
      if (logParts.has('hold')) {
        const held = await hold('logs', plan.holdSse);
        results.logs_followers = held.held;
        results.logs_follower_kb = held.kbPerConn;
      }
    }

    // 5b. The change feed (issue 19): 100 subscribers at 1,000 changes/s, and a replay of 100,000 changes.
    if (runs('changes')) {
      const changes = await measureChanges(db, base, quick ? 5 : 10, log);
      Object.assign(results, changes);
      const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ');
      writeFileSync(
        join(ROOT, 'bench/results/changes.json'),
        `${JSON.stringify({ ...changes, load_average_1m: Number(load), at: new Date().toISOString() }, null, 2)}\n`,
      );
    }

    if (runs('retention'))
      Object.assign(results, await measureRetention(db, base, databaseUrl, quick, log, (c) => children.push(c)));

    // 6. The run model at 1,000,000 executions (issue 17), last: it fills the database the other parts use.
    if (runs('model')) {
      const model = await measureModel(db, base, plan.wrkSeconds, log);
      Object.assign(results, model);
      const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ');
      writeFileSync(
        join(ROOT, 'bench/results/model.json'),
        `${JSON.stringify({ ...model, load_average_1m: Number(load), at: new Date().toISOString() }, null, 2)}\n`,
      );
    }

    results.machine = {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memory_gb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: String(pgVersion?.version ?? '')
        .split(' ')
        .slice(0, 2)
        .join(' '),
      durable: 'fsync=on, synchronous_commit=on',
      versions: Object.fromEntries(
        ['graphql', 'graphql-yoga', '@pothos/core', 'graphql-jit', 'graphql-sse', 'postgres', 'drizzle-orm'].map(
          (p) => [
            p,
            (JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string })
              .version,
          ],
        ),
      ),
      quick,
      at: new Date().toISOString(),
    };
    await db.end();
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await admin.end();
    await pg.stop();
  }
  // A run of the model, waitmany, logs or changes part alone keeps the other parts' figures (each has its own file
  // in bench/results/).
  const [load] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  if (only?.size === 1 && only.has('waitmany')) {
    const mine = Object.fromEntries(Object.entries(results).filter(([key]) => key.startsWith('waitmany_')));
    writeFileSync(
      join(ROOT, 'bench/results/waitmany.json'),
      `${JSON.stringify({ ...mine, load_average_1m: Number(load), at: new Date().toISOString() }, null, 2)}\n`,
    );
  } else if (only?.size === 1 && only.has('logs')) {
    writeFileSync(
      join(ROOT, 'bench/results/logs.json'),
      `${JSON.stringify({ ...results, load_average_1m: Number(load) }, null, 2)}\n`,
    );
  } else if (
    !(only?.size === 1 && (only.has('model') || only.has('changes') || only.has('retention'))) &&
    !only?.has('user')
  ) {
    writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  }
  if (results.user) process.stdout.write(userTable(results.user as Record<string, unknown>));
  printTable(results);
}

/**
 * Internal keys, their goals, and (for a latency a goal may put below this machine's floor) the key of the floor's
 * figure measured in the same run: such a goal is met, or within 1.3× of the floor (issue 22, item 3), or not.
 */
const GOALS: [string, string, (v: number) => boolean, string?][] = [
  ['graphql_read_ratio', '≥ 0.60', (v) => v >= 0.6],
  ['sse_subscribers', '10,000', (v) => v >= 10_000],
  ['sse_kb_per_conn', '≤ 16', (v) => v <= 16],
  ['delivery_p50_ms', '≤ 2', (v) => v <= 2],
  ['delivery_p99_ms', '≤ 10', (v) => v <= 10],
  ['fanout_1k_p99_ms', '≤ 40', (v) => v <= 40],
  ['logs_ingest_lines_per_s', '≥ 60,000', (v) => v >= 60_000],
  ['logs_delivery_p50_ms', '≤ 3', (v) => v <= 3, 'logs_floor_delivery_p50_ms'],
  ['logs_delivery_p99_ms', '≤ 10', (v) => v <= 10, 'logs_floor_delivery_p99_ms'],
  ['logs_fanout_1k_p99_ms', '≤ 50', (v) => v <= 50],
  ['logs_follower_kb', '≤ 16', (v) => v <= 16],
  ['waiters', '10,000', (v) => v >= 10_000],
  ['waiter_kb', '≤ 16', (v) => v <= 16],
  ['wake_p99_ms', '≤ 10', (v) => v <= 10],
  ['herd_1k_p99_ms', '≤ 100', (v) => v <= 100],
  ['ingest_single_eps', '≥ 5,000', (v) => v >= 5000],
  ['ingest_batch_eps', '≥ 50,000', (v) => v >= 50_000],
  ['waitmany_kb_per_waiter', '≤ 24', (v) => v <= 24],
  ['waitmany_release_p99_ms', '≤ 10', (v) => v <= 10, 'waitmany_floor_release_p99_ms'],
  ['changes_p99_ms', '≤ 50', (v) => v <= 50],
  ['changes_missing', '0', (v) => v === 0],
  ['changes_replay_s', '≤ 3', (v) => v <= 3],
  ['model_list_p99_ms', '≤ 15', (v) => v <= 15],
  ['model_counts_p99_ms', '≤ 100', (v) => v <= 100],
  ['model_create_ratio', '≤ 1.3', (v) => v <= 1.3],
];

function printTable(results: Record<string, unknown>) {
  const rows = GOALS.filter(([key]) => key in results).map(([key, goal, met, floorKey]) => {
    const v = Number(results[key]);
    const floor = floorKey && floorKey in results ? Number(results[floorKey]) : null;
    const ratio = floor ? round(v / floor, 2) : null;
    const verdict = met(v) ? 'met' : ratio !== null && ratio <= 1.3 ? 'within 1.3× of the floor' : 'NOT met';
    return `| ${key.padEnd(24)} | ${String(results[key]).padStart(10)} | ${String(floor ?? '–').padStart(7)} | ${String(ratio ?? '–').padStart(5)} | ${goal.padEnd(9)} | ${verdict} |`;
  });
  process.stdout.write(
    `${['| internal key | value | floor | ÷ floor | goal | |', '|---|---|---|---|---|---|', ...rows].join('\n')}\n`,
  );
}

const guard = setTimeout(() => {
  log('time bound reached; stopping');
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, deadline - Date.now());
guard.unref();
main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${err instanceof Error ? err.stack : err}`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
