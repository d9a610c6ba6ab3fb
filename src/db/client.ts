import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { acquireDataDirLock } from './lock.js';
import { restorePgliteTemplate } from './pglite-template.js';
import { preparing } from './prepare-all.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** The driver-independent database type all domain code is written against. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Something queries can run on: the database or an open transaction. */
export type Executor = Db | Tx;

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** A raw channel to the server for LISTEN/NOTIFY, which the query builder does not cover. */
export type Notifier = { kind: 'postgres'; sql: postgres.Sql } | { kind: 'pglite'; pg: PGlite };

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Where the data lives, for the start-up message (the URL without its password). */
  location: string;
  notifier: Notifier;
  /** Runs a trivial query: true when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite data directory; ignored with databaseUrl. */
  dataDir?: string | undefined;
  /** PGlite in memory (tests); ignored with databaseUrl. */
  memory?: boolean;
  /** A gzip dump of a migrated PGlite database to start from (tests). */
  loadDataDir?: Blob | File;
  /** Where a fresh PGlite data directory is copied from (tests); the build's `dist/pglite/` by default. */
  pgliteTemplate?: URL;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? 20) : openPglite(options);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const sql = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: 10,
    // Queries waiting through an outage retry the connection at least every second, so they go through as soon as the
    // database is back (postgres.js's default backs off to 20 s).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
  });
  // Several instances may start at once on one database: migrate under an advisory lock.
  const lockConn = await sql.reserve();
  try {
    await lockConn`select pg_advisory_lock(7243011)`;
    await migratePostgres(drizzlePostgres({ client: sql }), { migrationsFolder });
  } finally {
    await lockConn`select pg_advisory_unlock(7243011)`.catch(() => {});
    lockConn.release();
  }
  const db = drizzlePostgres({ client: preparing(sql), schema }) as unknown as Db;
  const parsed = new URL(url);
  parsed.password = '';
  return {
    db,
    kind: 'postgres',
    location: parsed.toString(),
    notifier: { kind: 'postgres', sql },
    ping: async () => {
      try {
        await sql`select 1`;
        return true;
      } catch {
        return false;
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * PGlite's PostgreSQL settings, sized for one embedded service rather than PostgreSQL's defaults for a shared server
 * (shared_buffers 128MB, maintenance_work_mem 64MB, 100 connections' worth of shared memory): every buffer lives in
 * the process's WebAssembly memory, which never shrinks. PostgreSQL touches all of shared_buffers when it starts, so
 * each MB of it is a MB of RSS at idle: 8MB (1,024 pages) idles ~10 MB below 16MB; 4MB measured no lower within the
 * noise, and a CRUD loop ran no slower on either (an evicted page is read back from the OS page cache). Measured in
 * README (Lean runtime).
 */
export const PGLITE_SETTINGS = [
  'shared_buffers=8MB',
  'work_mem=2MB',
  'maintenance_work_mem=16MB',
  'temp_buffers=2MB',
  'wal_buffers=512kB',
  'max_connections=4',
];

/**
 * Creates a PGlite data directory in a short-lived child process. PGlite initializes a fresh directory with a second
 * WebAssembly instance (initdb) and copies its result through its own memory, which grows to ~600 MB on the way and
 * never shrinks (WebAssembly memory cannot); done here, the server would idle at that size for its whole life.
 * Opened afterwards as an existing directory, it starts at PGlite's floor.
 */
async function initializeElsewhere(pgDir: string, startParams: string[]): Promise<void> {
  const script =
    'const { PGlite } = await import(process.argv[1]);' +
    'const pg = new PGlite(process.argv[2], { startParams: JSON.parse(process.argv[3]) });' +
    'await pg.waitReady; await pg.close();';
  const child = spawn(
    process.execPath,
    [
      // short-lived: V8's baseline wasm code only, without compiling all of PostgreSQL a second time optimized
      '--liftoff-only',
      '--input-type=module',
      '-e',
      script,
      import.meta.resolve('@electric-sql/pglite'),
      pgDir,
      JSON.stringify(startParams),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0) throw new Error(`PGlite could not create its database in ${pgDir} (exit ${code}): ${stderr.trim()}`);
}

/** PGlite (its WebAssembly PostgreSQL, tens of MB) is loaded only when it is the database. */
async function openPglite(options: DatabaseOptions): Promise<Database> {
  // V8 compiles WebAssembly twice by default: all of it at once with its baseline compiler (Liftoff), then every
  // function that runs often again, optimized (TurboFan), on background threads. PostgreSQL's functions are large:
  // the second compilation holds ~35–45 MB more code and costs more CPU than it saves for a long while (measured in
  // README, "Lean runtime"). Baseline code only, as the initdb child below already runs. Set before PGlite compiles
  // its module; node lets V8's flags change at run time (the wasm compiler reads them per compilation).
  setFlagsFromString('--liftoff-only');
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])];
  let release = () => {};
  let pg: PGlite;
  let location: string;
  if (options.memory || options.loadDataDir) {
    pg = new PGlite({ startParams, ...(options.loadDataDir && { loadDataDir: options.loadDataDir }) });
    location = 'memory';
  } else {
    const dataDir = resolve(options.dataDir ?? './data');
    release = acquireDataDirLock(dataDir);
    const pgDir = resolve(dataDir, 'pglite');
    mkdirSync(dataDir, { recursive: true });
    try {
      // A fresh directory starts from the build's migrated template; without one, from initdb.
      if (!existsSync(join(pgDir, 'PG_VERSION')) && !restorePgliteTemplate(pgDir, options.pgliteTemplate)) {
        await initializeElsewhere(pgDir, startParams);
      }
      pg = new PGlite(pgDir, { startParams });
      await pg.waitReady;
    } catch (err) {
      release();
      throw err;
    }
    location = pgDir;
  }
  const db = drizzlePglite({ client: pg, schema }) as unknown as Db;
  try {
    await migratePglite(db as never, { migrationsFolder });
  } catch (err) {
    await pg.close().catch(() => {});
    release();
    throw err;
  }
  return {
    db,
    kind: 'pglite',
    location,
    notifier: { kind: 'pglite', pg },
    ping: async () => {
      try {
        await pg.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
}
