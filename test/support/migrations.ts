import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { type DbKind, newDatabaseUrl } from './harness.js';

/**
 * The migrations folder as it was before the migration `tag` (a copy in a new temporary `dir`, its journal cut before
 * `tag`), to build a database that holds rows written before it.
 */
export function folderBefore(tag: string): { dir: string; before: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  const before = join(dir, 'drizzle');
  cpSync(migrationsFolder, before, { recursive: true });
  const journalPath = join(before, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at <= 0) throw new Error(`no migration ${tag} after the first in ${journalPath}`);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return { dir, before };
}

/** A fresh database of either kind, migrated by hand: plain SQL in, rows out. */
export interface MigrationRunner {
  run(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

export async function migrationRunner(kind: DbKind): Promise<MigrationRunner> {
  if (kind === 'postgres') {
    const client = postgres(await newDatabaseUrl(), { max: 1, onnotice: () => {} });
    const db = drizzlePostgres({ client });
    return {
      run: async (text, params) => (await client.unsafe(text, params as never[])) as Record<string, unknown>[],
      migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
      close: () => client.end(),
    };
  }
  const pg = new PGlite();
  const db = drizzlePglite({ client: pg });
  return {
    run: async (text, params) => (await pg.query<Record<string, unknown>>(text, params)).rows,
    migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
    close: () => pg.close(),
  };
}

/**
 * For the tests of one migration, in their describe block: a fresh database of `kind` (`db()`) and the migrations
 * folder cut before `tag` (`before()`), made before the tests and removed after them.
 */
export function beforeMigration(kind: DbKind, tag: string): { db(): MigrationRunner; before(): string } {
  let db: MigrationRunner | undefined;
  let folders: { dir: string; before: string } | undefined;
  beforeAll(async () => {
    folders = folderBefore(tag);
    db = await migrationRunner(kind);
  }, 30_000);
  afterAll(async () => {
    await db?.close();
    if (folders) rmSync(folders.dir, { recursive: true, force: true });
  });
  return {
    db: () => db as MigrationRunner,
    before: () => (folders as { before: string }).before,
  };
}
