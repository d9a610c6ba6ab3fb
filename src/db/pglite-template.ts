import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The build's migrated, empty PGlite database (`scripts/pglite-template.mjs`, run by `scripts/build.mjs`):
 * `dist/pglite/`, two levels up from `src/db/` and from `dist/server/` alike.
 */
export const buildTemplate = new URL('../../dist/pglite/', import.meta.url);

/** The version of the PGlite this process runs (its data directory format). */
function pgliteVersion(): string {
  const pkg = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * Makes `pgDir` a copy of the build's template (`root`: a directory laid out as `dist/pglite/`), so a fresh data directory opens as an existing one: no initdb (a
 * second WebAssembly instance) and no migrations replayed from the first (those that came after the build still
 * run, at open). False, leaving `pgDir` untouched, when there is no template for this PGlite (no build, or PGlite
 * changed since) or `pgDir` already holds files. The copy is made beside it and renamed, so an interrupted start
 * leaves no half-copied database behind.
 */
export function restorePgliteTemplate(pgDir: string, root: URL = buildTemplate): boolean {
  let stamp: { pglite?: string };
  try {
    stamp = JSON.parse(readFileSync(new URL('stamp.json', root), 'utf8')) as { pglite?: string };
  } catch {
    return false;
  }
  const template = fileURLToPath(new URL('template', root));
  if (stamp.pglite !== pgliteVersion() || !existsSync(`${template}/PG_VERSION`)) return false;
  if (existsSync(pgDir)) {
    if (readdirSync(pgDir).length > 0) return false;
    rmSync(pgDir, { recursive: true });
  }
  const partial = `${pgDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(template, partial, { recursive: true });
  renameSync(partial, pgDir);
  return true;
}
