import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

/** The migrations folder as it was before 0004_run_model, to build a database that holds executions already. */
function foldersBefore0004(): { dir: string; before: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  const before = join(dir, 'drizzle');
  cpSync(migrationsFolder, before, { recursive: true });
  const journalPath = join(before, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === '0004_run_model');
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return { dir, before };
}

interface Runner {
  run(text: string): Promise<Record<string, unknown>[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

async function runner(kind: (typeof DB_KINDS)[number]): Promise<Runner> {
  if (kind === 'postgres') {
    const client = postgres(await newDatabaseUrl(), { max: 1, onnotice: () => {} });
    const db = drizzlePostgres({ client });
    return {
      run: async (text) => (await client.unsafe(text)) as Record<string, unknown>[],
      migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
      close: () => client.end(),
    };
  }
  const pg = new PGlite();
  const db = drizzlePglite({ client: pg });
  return {
    run: async (text) => (await pg.query<Record<string, unknown>>(text)).rows,
    migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
    close: () => pg.close(),
  };
}

describe.each(DB_KINDS)('the 0004_run_model migration on %s', (kind) => {
  let db: Runner;
  let folders: { dir: string; before: string };
  beforeAll(async () => {
    folders = foldersBefore0004();
    db = await runner(kind);
  }, 30_000);
  afterAll(async () => {
    await db?.close();
    rmSync(folders.dir, { recursive: true, force: true });
  });

  it('applies over existing executions: each becomes the root of its own tree, untagged, attempt 1', async () => {
    await db.migrate(folders.before);
    await db.run(`insert into executions (id, organization_id, environment, workflow_id, trigger, created_at, updated_at)
      values ('01900000-0000-7000-8000-000000000001', 'default', 'test', 'wf', '{"type":"manual"}', now(), now())`);
    await db.migrate(migrationsFolder);
    const [row] = await db.run(
      `select root_execution_id::text as root, parent_execution_id, tags, depth, attempt, retry_of, pinned from executions`,
    );
    expect(row).toEqual({
      root: '01900000-0000-7000-8000-000000000001',
      parent_execution_id: null,
      tags: {},
      depth: 1,
      attempt: 1,
      retry_of: null,
      pinned: false,
    });
    const [type] = await db.run(`select 'TAGS_CHANGED'::execution_event_type::text as t`);
    expect(type?.t).toBe('TAGS_CHANGED');
  }, 90_000); // a fresh PGlite applies every migration: ~10 s alone, it passed 30 s once under a loaded full suite
});
