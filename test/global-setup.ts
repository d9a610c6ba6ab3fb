import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { buildTemplate } from '../src/db/pglite-template.js';
import { startPostgres } from './support/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgliteTemplate: string;
  }
}

/**
 * One PostgreSQL cluster for the run (each test server gets its own database), and a fresh build of dist/ (what
 * `npm start` and `vigil` run; the CLI's tests and the compiled-server test use it), which also makes the migrated
 * PGlite that in-memory test databases load (dist/pglite/template.tar.gz, scripts/pglite-template.mjs).
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: new URL('..', import.meta.url), stdio: 'ignore' });
  const pg = await startPostgres();
  project.provide('pgUrl', pg.url);
  project.provide('pgliteTemplate', fileURLToPath(new URL('template.tar.gz', buildTemplate)));
  return () => pg.stop();
}
