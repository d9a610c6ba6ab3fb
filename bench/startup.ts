/**
 * Start-up and footprint figures (`npm run bench -- --only startup`): the server started as `npm start` starts it,
 * on a fresh PGlite directory, on an existing one and on PostgreSQL; for each, the time from spawn to the first
 * `/readyz` 200, then, idle for a few seconds, the RSS of the process that listens and its heap / external memory
 * (from `/metrics`). Several runs each, the median reported (the machine is shared). Then the CLI: `vigil --help`
 * and `vigil get ID` against a local server, wall time of the whole process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGLITE_SETTINGS } from '../src/db/client.js';
import { buildTemplate } from '../src/db/pglite-template.js';
import { freePort } from '../test/support/postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The node arguments of `npm start` (package.json), so the figures are those of the real command. */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/).filter(Boolean);
  if (words[0] === 'tsx') return ['--import', 'tsx', ...words.slice(1)]; // the old `tsx src/main.ts`, for comparison
  if (words[0] !== 'node') throw new Error(`npm start is not a node command: ${pkg.scripts.start}`);
  return words.slice(1);
}

export interface StartupFigures {
  ready_ms: number;
  rss_mb: number;
  heap_used_mb: number;
  external_mb: number;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
  return Number(m?.[1] ?? Number.NaN);
}

/** One start: spawn, time to ready, idle, figures, SIGTERM. */
async function startOnce(
  env: Record<string, string>,
  idleMs: number,
  onStart: (c: ChildProcess) => void,
): Promise<StartupFigures> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, startArgs(), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  onStart(child);
  const exited = new Promise((r) => child.once('exit', r));
  const base = `http://127.0.0.1:${port}`;
  try {
    let readyMs = Number.NaN;
    while (performance.now() - started < 180_000 && child.exitCode === null) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) {
          readyMs = performance.now() - started;
          break;
        }
      } catch {}
      await sleep(10);
    }
    if (Number.isNaN(readyMs)) throw new Error('the server never became ready');
    await sleep(idleMs);
    const rss = rssBytes(child.pid as number);
    const text = await (await fetch(`${base}/metrics`)).text();
    return {
      ready_ms: Math.round(readyMs),
      rss_mb: mb(rss),
      heap_used_mb: mb(metric(text, 'vigil_nodejs_heap_size_used_bytes')),
      external_mb: mb(metric(text, 'vigil_nodejs_external_memory_bytes')),
    };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * PGlite's floor: a node process with nothing but PGlite as the server runs it (the settings of `db/client.ts`, V8's
 * baseline wasm code only) on a copy of the build's migrated database, one query, then idle as long as the server
 * is; RSS read the same way. `bare` is node alone (an empty event loop kept alive as long).
 */
async function floorOnce(idleMs: number, bare: boolean, onStart: (c: ChildProcess) => void): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-floor-'));
  try {
    cpSync(fileURLToPath(new URL('template', buildTemplate)), join(dir, 'pglite'), { recursive: true });
    const startParams = PGLITE_SETTINGS.flatMap((setting) => ['-c', setting]);
    const script = bare
      ? 'console.log("ready"); setTimeout(() => {}, 600000);'
      : 'const { setFlagsFromString } = await import("node:v8"); setFlagsFromString("--liftoff-only");' +
        'const { PGlite } = await import(process.argv[1]);' +
        'const pg = new PGlite(process.argv[2], { startParams: [...PGlite.defaultStartParams, ...JSON.parse(process.argv[3])] });' +
        'await pg.query("select count(*) from executions"); console.log("ready"); setTimeout(() => {}, 600000);';
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script,
        import.meta.resolve('@electric-sql/pglite'),
        join(dir, 'pglite'),
        JSON.stringify(startParams),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onStart(child);
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d) => String(d).includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`the floor process exited (${code})`)));
      });
      await sleep(idleMs);
      return mb(rssBytes(child.pid as number));
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function medians(runs: StartupFigures[]): StartupFigures & { runs: number; ready_ms_all: number[] } {
  return {
    ready_ms: median(runs.map((r) => r.ready_ms)),
    rss_mb: median(runs.map((r) => r.rss_mb)),
    heap_used_mb: median(runs.map((r) => r.heap_used_mb)),
    external_mb: median(runs.map((r) => r.external_mb)),
    runs: runs.length,
    ready_ms_all: runs.map((r) => r.ready_ms),
  };
}

/** Wall time of `vigil ARGS`, median of `n` runs (node's own start included, as a user sees it). */
function cliMs(args: string[], env: Record<string, string>, n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['bin/vigil.js', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
      encoding: 'utf8',
    });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`vigil ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return Math.round(median(times));
}

export async function measureStartup(options: {
  databaseUrl: string;
  runs: number;
  idleMs: number;
  log: (msg: string) => void;
  /** Every process started, so that the caller can stop them all if it gives up. */
  started: (child: ChildProcess) => void;
}): Promise<Record<string, unknown>> {
  const { runs, idleMs, log } = options;
  const quiet = { LOG_LEVEL: 'warn' };
  const fresh: StartupFigures[] = [];
  const existing: StartupFigures[] = [];
  const onPostgres: StartupFigures[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-data-'));
    try {
      log(`startup pglite fresh ${i + 1}/${runs}`);
      fresh.push(await startOnce({ ...quiet, VIGIL_DATA_DIR: dir }, idleMs, options.started));
      log(`  ${JSON.stringify(fresh.at(-1))}`);
      log(`startup pglite existing ${i + 1}/${runs}`);
      existing.push(await startOnce({ ...quiet, VIGIL_DATA_DIR: dir }, idleMs, options.started));
      log(`  ${JSON.stringify(existing.at(-1))}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    log(`startup postgres ${i + 1}/${runs}`);
    onPostgres.push(await startOnce({ ...quiet, DATABASE_URL: options.databaseUrl }, idleMs, options.started));
    log(`  ${JSON.stringify(onPostgres.at(-1))}`);
  }

  log('pglite floor');
  const floor: number[] = [];
  const bareNode: number[] = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await floorOnce(idleMs, false, options.started));
    bareNode.push(await floorOnce(idleMs, true, options.started));
  }
  const floorMb = median(floor);
  const serverMb = medians(existing).rss_mb;
  log(`  floor ${floorMb} MB (${floor.join(', ')}), node alone ${median(bareNode)} MB`);

  log('cli');
  const port = await freePort();
  const server = spawn(process.execPath, startArgs(), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: options.databaseUrl, ...quiet },
    stdio: 'ignore',
  });
  options.started(server);
  const base = `http://127.0.0.1:${port}`;
  let cli: Record<string, number>;
  try {
    for (let i = 0; i < 500; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {}
      await sleep(20);
    }
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { createExecution(input: {workflowId: "bench-cli"}) { id } }' }),
    });
    const id = ((await res.json()) as { data: { createExecution: { id: string } } }).data.createExecution.id;
    const n = Math.max(5, runs);
    cli = {
      help_ms: cliMs(['--help'], {}, n),
      get_ms: cliMs(['get', id, '--url', base], {}, n),
    };
  } finally {
    server.kill('SIGTERM');
  }

  return {
    pglite_fresh: medians(fresh),
    pglite_existing: medians(existing),
    postgres: medians(onPostgres),
    pglite_floor: {
      rss_mb: floorMb,
      rss_mb_all: floor,
      node_alone_rss_mb: median(bareNode),
      server_above_floor_mb: Math.round((serverMb - floorMb) * 10) / 10,
    },
    cli,
    start_command: `node ${startArgs().join(' ')}`,
    idle_ms: idleMs,
  };
}

const GOALS: [string, (f: Record<string, unknown>) => number, string, (v: number) => boolean][] = [
  ['ready_ms pglite fresh', (f) => (f.pglite_fresh as StartupFigures).ready_ms, '≤ 6000', (v) => v <= 6000],
  ['ready_ms pglite existing', (f) => (f.pglite_existing as StartupFigures).ready_ms, '≤ 2000', (v) => v <= 2000],
  ['ready_ms postgres', (f) => (f.postgres as StartupFigures).ready_ms, '≤ 1000', (v) => v <= 1000],
  ['rss_mb pglite (existing)', (f) => (f.pglite_existing as StartupFigures).rss_mb, '≤ 150', (v) => v <= 150],
  ['rss_mb postgres', (f) => (f.postgres as StartupFigures).rss_mb, '≤ 90', (v) => v <= 90],
  ['cli --help ms', (f) => (f.cli as Record<string, number>).help_ms ?? Number.NaN, '≤ 300', (v) => v <= 300],
  ['cli get ms', (f) => (f.cli as Record<string, number>).get_ms ?? Number.NaN, '≤ 500', (v) => v <= 500],
];

export function startupTable(figures: Record<string, unknown>): string {
  const rows = GOALS.map(([name, get, goal, met]) => {
    const v = get(figures);
    return `| ${name.padEnd(26)} | ${String(v).padStart(8)} | ${goal.padEnd(7)} | ${met(v) ? 'met' : 'NOT met'} |`;
  });
  const floor = figures.pglite_floor as Record<string, number> | undefined;
  if (floor) {
    rows.push(`| ${'rss_mb pglite floor'.padEnd(26)} | ${String(floor.rss_mb).padStart(8)} | ${'—'.padEnd(7)} | |`);
    rows.push(
      `| ${'rss_mb server above floor'.padEnd(26)} | ${String(floor.server_above_floor_mb).padStart(8)} | ${'—'.padEnd(7)} | |`,
    );
  }
  return `${['| startup | value | goal | |', '|---|---|---|---|', ...rows].join('\n')}\n`;
}
