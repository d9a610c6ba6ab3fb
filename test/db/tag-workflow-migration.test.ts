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

const TAG = '0013_tag_workflow';

/** The migrations folder as it was before 0013_tag_workflow, to build a database that holds tagged executions. */
function folderBefore(): { dir: string; before: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  const before = join(dir, 'drizzle');
  cpSync(migrationsFolder, before, { recursive: true });
  const journalPath = join(before, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === TAG);
  expect(at).toBeGreaterThan(0);
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

const insert = (id: string, workflow: string, tags: string) =>
  `insert into executions (id, organization_id, environment, workflow_id, trigger, tags, root_execution_id,
     created_at, updated_at)
   values ('${id}', 'default', 'test', '${workflow}', '{"type":"manual"}', '${tags}', '${id}', now(), now())`;

/**
 * Migration 0013 copies each execution's workflow into its rows of the tag index (`execution_tags.workflow_id`, which
 * a tag filtered by workflow reads): the rows of executions tagged before it take their execution's workflow, and the
 * triggers write it from then on.
 */
describe.each(DB_KINDS)(`the ${TAG} migration on %s`, (kind) => {
  let db: Runner;
  let folders: { dir: string; before: string };
  beforeAll(async () => {
    folders = folderBefore();
    db = await runner(kind);
  }, 30_000);
  afterAll(async () => {
    await db?.close();
    rmSync(folders.dir, { recursive: true, force: true });
  });

  it('applies over tagged executions: their tag rows take the workflow, and the triggers write it after', async () => {
    await db.migrate(folders.before);
    await db.run(insert('01900000-0000-7000-8000-000000000001', 'wf-a', '{"team":"red","customer":"c1"}'));
    await db.run(insert('01900000-0000-7000-8000-000000000002', 'wf-b', '{"team":"red"}'));
    await db.migrate(migrationsFolder);
    await db.run(insert('01900000-0000-7000-8000-000000000003', 'wf-c', '{"team":"blue"}'));
    await db.run(`update executions set tags = '{"team":"red","tier":"gold"}', status = 'RUNNING'
      where id = '01900000-0000-7000-8000-000000000002'`);
    const rows = await db.run(
      `select right(execution_id::text, 1) as e, key, value, workflow_id, status::text from execution_tags
       order by execution_id, key`,
    );
    expect(rows).toEqual([
      { e: '1', key: 'customer', value: 'c1', workflow_id: 'wf-a', status: 'PENDING' },
      { e: '1', key: 'team', value: 'red', workflow_id: 'wf-a', status: 'PENDING' },
      { e: '2', key: 'team', value: 'red', workflow_id: 'wf-b', status: 'RUNNING' },
      { e: '2', key: 'tier', value: 'gold', workflow_id: 'wf-b', status: 'RUNNING' },
      { e: '3', key: 'team', value: 'blue', workflow_id: 'wf-c', status: 'PENDING' },
    ]);
  }, 90_000);
});
