import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { migrationsFolder } from '../src/db/client.js';
import { startPostgres } from './support/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgliteTemplate: string;
  }
}

/**
 * One PostgreSQL cluster for the run (each test server gets its own database), a migrated PGlite to copy, and a fresh
 * build of dist/ (what `npm start` and `vigil` run; the CLI's tests and the compiled-server test use it).
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: new URL('..', import.meta.url), stdio: 'ignore' });
  const [pgResult, templateResult] = await Promise.allSettled([startPostgres(), buildPgliteTemplate()]);
  if (pgResult.status === 'rejected' || templateResult.status === 'rejected') {
    // Leave nothing running behind the one error reported (a PostgreSQL that started, a template folder).
    if (pgResult.status === 'fulfilled') await pgResult.value.stop();
    if (templateResult.status === 'fulfilled') rmSync(templateResult.value.dir, { recursive: true, force: true });
    throw pgResult.status === 'rejected' ? pgResult.reason : (templateResult as PromiseRejectedResult).reason;
  }
  const pg = pgResult.value;
  const template = templateResult.value;
  project.provide('pgUrl', pg.url);
  project.provide('pgliteTemplate', template.file);
  return async () => {
    await pg.stop();
    rmSync(template.dir, { recursive: true, force: true });
  };
}

async function buildPgliteTemplate(): Promise<{ dir: string; file: string }> {
  const pg = new PGlite();
  await migrate(drizzle({ client: pg }), { migrationsFolder });
  const dump = await pg.dumpDataDir('gzip');
  await pg.close();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pglite-'));
  const file = join(dir, 'template.tar.gz');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  return { dir, file };
}
