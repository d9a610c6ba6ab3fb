/**
 * An A/B of one user figure (issue 22) between builds or schemas, each server in turn with the others and the floor
 * (`bench/user/floor.ts`), on one durable PostgreSQL with a database per server, so a drift of the machine falls on
 * every server alike, finer than the user bench's slices.
 *
 *   AB='main=dist/server/main.js;other=/path/to/dist/server/main.js,SOME_ENV=1' npx tsx bench/ab.ts
 *
 * `AB` names each server, its built main.js and any environment of its own; `AB_SQL_<name>` is SQL run on that
 * server's database once it has migrated (a schema to compare: `drop index …; alter table …`); `AB_DBSET_<name>` a
 * setting of that database for every connection, set before the server starts (`plan_cache_mode = …`), and
 * `AB_CREATE_<name>` what its `create database` adds (`template template0 locale 'C'`). `AB_FIGURE`:
 * - `wake` (the default): single waits released round by round, a round as the user bench's (`user/wake.ts`) with one
 *   waiter; `ROUNDS` (300) measured per server after 10 warm-up. Prints p50 and p90, and p50 ÷ the floor's.
 * - `ingest1`, `ingest100`: the user bench's ingest (`user/ingest.ts`) of 1 or 100 MESSAGE events per call, in
 *   `ROUNDS` (10) slices of 2 s per server taking turns. Prints events/s, floor ÷ server, and the CPU time per event
 *   of the server's process and of the whole machine (wrk and PostgreSQL too) over its slices: the same build's
 *   throughput moves between runs by more than the difference being measured, and the CPU says whether a change
 *   made the work smaller.
 */
import { spawn } from 'node:child_process';
import postgres from 'postgres';
import { freePort, startPostgres } from '../test/support/postgres.js';
import { percentile } from './clients/common.js';
import { type Child, child, floorChild } from './user/http.js';
import { ingestCpu, ingestInTurns, ingestRate } from './user/ingest.js';
import { ready } from './user/memory.js';
import { wakeRound } from './user/wake.js';

interface Spec {
  name: string;
  main: string;
  env: Record<string, string>;
}

const specs: Spec[] = (process.env.AB ?? '')
  .split(';')
  .filter(Boolean)
  .map((part) => {
    const eq = part.indexOf('=');
    const name = part.slice(0, Math.max(eq, 0));
    const [main = '', ...envs] = part.slice(eq + 1).split(',');
    if (!/^[a-z][a-z0-9_]*$/.test(name) || !main) throw new Error(`AB: "${part}" is not name=path/to/main.js[,ENV=v]`);
    const env = Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    return { name, main, env };
  });
if (specs.length === 0) throw new Error('AB names no server (see the comment at the top of bench/ab.ts)');
const figure = process.env.AB_FIGURE ?? 'wake';
if (!['wake', 'ingest1', 'ingest100'].includes(figure))
  throw new Error(`AB_FIGURE: ${figure} is not wake, ingest1 or ingest100`);
const rounds = Number(process.env.ROUNDS ?? (figure === 'wake' ? 300 : 10));

const root = process.cwd();
const pg = await startPostgres({ durable: true, maxConnections: 200 });
const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
const stops: (() => void)[] = [];
const urls = new Map<string, string>();
const databaseOf = async (name: string) => {
  await admin.unsafe(`create database ${name} ${process.env[`AB_CREATE_${name}`] ?? ''}`);
  const url = Object.assign(new URL(pg.url), { pathname: `/${name}` }).toString();
  urls.set(name, url);
  return url;
};

async function wake(bases: Map<string, string>): Promise<void> {
  const servers = [...bases].map(([name, base]) => ({
    name,
    base,
    waiters: child(root, 'bench/user/waiters.ts', ['--base', base]) as Child,
    times: [] as number[],
  }));
  for (const s of servers) stops.push(() => s.waiters.send('end'));
  for (let i = 0; i < rounds + 10; i++) {
    for (const s of servers) {
      const [at] = await wakeRound(s.name, s.base, s.waiters, 1);
      if (i >= 10) s.times.push(at as number);
    }
  }
  const floorP50 = percentile(servers.find((s) => s.name === 'floor')?.times ?? [], 50);
  for (const s of servers) {
    const p50 = percentile(s.times, 50);
    const p90 = percentile(s.times, 90);
    process.stdout.write(
      `${s.name.padEnd(12)} wake p50 ${p50.toFixed(2)} ms  p90 ${p90.toFixed(2)} ms  p50 ÷ floor ${(p50 / floorP50).toFixed(3)}\n`,
    );
  }
}

async function ingest(bases: Map<string, string>, pids: Map<string, number | undefined>, per: number): Promise<void> {
  const servers = [...bases].map(([label, base]) => {
    const db = postgres(urls.get(label === 'floor' ? 'ab_floor' : label) as string, { max: 1, onnotice: () => {} });
    stops.push(() => void db.end());
    const table = label === 'floor' ? ('floor_events' as const) : ('execution_events' as const);
    return { label, base, db, table, pid: pids.get(label) };
  });
  const slices = await ingestInTurns(root, servers, per, rounds, 2);
  const floorRate = ingestRate(slices.get('floor') ?? []);
  for (const [label, mine] of slices) {
    const rate = ingestRate(mine);
    const each = mine.map((s) => Math.round(s.counted / s.seconds)).join(' ');
    process.stdout.write(
      `${label.padEnd(12)} ingest ${per}/call ${rate} events/s  floor ÷ it ${(floorRate / rate).toFixed(3)}  ` +
        `CPU µs/event: server ${ingestCpu(mine)}, machine ${ingestCpu(mine, 'machineMs')}  (slices: ${each})\n`,
    );
  }
}

try {
  const bases = new Map<string, string>();
  const pids = new Map<string, number | undefined>();
  for (const s of specs) {
    const url = await databaseOf(s.name);
    const set = process.env[`AB_DBSET_${s.name}`];
    if (set) await admin.unsafe(`alter database ${s.name} set ${set}`);
    const port = await freePort();
    const proc = spawn(process.execPath, [s.main], {
      env: { ...process.env, DATABASE_URL: url, PORT: String(port), LOG_LEVEL: 'error', ...s.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    stops.push(() => proc.kill());
    const base = `http://127.0.0.1:${port}`;
    await ready(base);
    const after = process.env[`AB_SQL_${s.name}`];
    if (after) {
      const db = postgres(url, { max: 1, onnotice: () => {} });
      await db.unsafe(after);
      await db.end();
    }
    bases.set(s.name, base);
    pids.set(s.name, proc.pid);
  }
  const floor = await floorChild(root, { DATABASE_URL: await databaseOf('ab_floor'), PORT: String(await freePort()) });
  stops.push(() => floor.proc.kill());
  pids.set('floor', floor.proc.pid);
  bases.set('floor', `http://127.0.0.1:${(await floor.next<{ port: number }>('port', 60_000)).port}`);

  if (figure === 'wake') await wake(bases);
  else await ingest(bases, pids, figure === 'ingest1' ? 1 : 100);
} finally {
  for (const stop of stops) stop();
  await admin.end();
  await pg.stop();
}
process.exit(0);
