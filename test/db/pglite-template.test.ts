import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, openDatabase } from '../../src/db/client.js';
import { buildTemplate, restorePgliteTemplate } from '../../src/db/pglite-template.js';

const rows = <T>(r: unknown) => (r as { rows: T[] }).rows;
const pgliteVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8')) as {
    version: string;
  }
).version;

/**
 * A template laid out as the build's `dist/pglite/`, as an older build made it: only the first `keep` migrations,
 * and a marker table the migrations never create, so a database that has it was copied from this template.
 */
async function olderTemplate(root: string, keep: number, pglite = pgliteVersion): Promise<URL> {
  const folder = join(root, 'drizzle');
  cpSync(migrationsFolder, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, keep);
  writeFileSync(journalFile, JSON.stringify(journal));
  const memory = new PGlite();
  await migrate(drizzle({ client: memory }), { migrationsFolder: folder });
  await memory.exec('create table template_marker (id int)');
  const dump = await memory.dumpDataDir('gzip');
  await memory.close();
  const out = join(root, 'pglite');
  mkdirSync(out);
  const disk = new PGlite(join(out, 'template'), { loadDataDir: dump });
  await disk.waitReady;
  await disk.close();
  writeFileSync(join(out, 'stamp.json'), JSON.stringify({ pglite }));
  return pathToFileURL(`${out}/`);
}

describe('a fresh PGlite data directory starts from the build template', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-template-'));
    dirs.push(d);
    return d;
  };
  let older: URL;
  beforeAll(async () => {
    older = await olderTemplate(tempDir(), 3);
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('is copied from the template, then migrated past it (a template from an older build stays correct)', async () => {
    const dataDir = tempDir();
    const database = await openDatabase({ dataDir, pgliteTemplate: older });
    try {
      const marker = rows(await database.db.execute(sql`select to_regclass('template_marker') as t`));
      expect(marker).toEqual([{ t: 'template_marker' }]);
      const applied = rows<{ n: number }>(
        await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
      );
      const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'));
      expect(applied).toEqual([{ n: journal.entries.length }]);
      // a column of the last migration (0004, the run model), which the template had not
      const created = rows<{ tags: unknown; depth: number }>(
        await database.db.execute(sql`insert into executions (id, organization_id, environment, workflow_id, status,
          trigger, created_at, updated_at, root_execution_id) values ('01900000-0000-7000-8000-000000000001',
          'default', 'test', 'wf', 'PENDING', '{"type":"manual"}', now(), now(),
          '01900000-0000-7000-8000-000000000001') returning tags, depth`),
      );
      expect(created).toEqual([{ tags: {}, depth: 1 }]);
    } finally {
      await database.close();
    }
    expect(existsSync(join(dataDir, 'pglite.partial'))).toBe(false);
    // reopened as an existing directory: the data is kept, nothing is copied over it
    const again = await openDatabase({ dataDir, pgliteTemplate: older });
    try {
      const count = rows(await again.db.execute(sql`select count(*)::int as n from executions`));
      expect(count).toEqual([{ n: 1 }]);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('is not used for another PGlite version, nor over files already in the directory', async () => {
    const other = await olderTemplate(tempDir(), 1, '0.0.1');
    const fresh = join(tempDir(), 'pglite');
    expect(restorePgliteTemplate(fresh, other)).toBe(false);
    expect(existsSync(fresh)).toBe(false);
    const busy = join(tempDir(), 'pglite');
    mkdirSync(busy);
    writeFileSync(join(busy, 'something'), 'x');
    expect(restorePgliteTemplate(busy, older)).toBe(false);
    expect(readdirSync(busy)).toEqual(['something']);
  }, 120_000);

  it('is made by the build for this PGlite and the current migrations', async () => {
    const pgDir = join(tempDir(), 'pglite');
    expect(restorePgliteTemplate(pgDir, buildTemplate)).toBe(true);
    const pg = new PGlite(pgDir);
    try {
      const applied = await pg.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
      const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'));
      expect(applied.rows).toEqual([{ n: journal.entries.length }]);
    } finally {
      await pg.close();
    }
  }, 120_000);
});
