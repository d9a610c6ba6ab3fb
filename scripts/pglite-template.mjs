// Run by scripts/build.mjs: a migrated, empty PGlite database, made once at build time, for a fresh data directory
// to start from (src/db/pglite-template.ts copies it) instead of running initdb and every migration at start, and for
// the test suite's in-memory databases (test/global-setup.ts loads the tarball). Writes dist/pglite/:
// - template/: the data directory, as PGlite leaves it on disk;
// - template.tar.gz: the same, as PGlite's dumpDataDir() writes it (for `new PGlite({ loadDataDir })`);
// - stamp.json: the PGlite version and a hash of drizzle/ it was made with.
// Kept across builds while the stamp matches. Made in memory (initdb and migrations there take a fraction of the
// time they take on the node file system), then restored to disk through PGlite's own loadDataDir.
// Plain JavaScript, like build.mjs; run with --liftoff-only (short-lived: V8's baseline wasm code is enough).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';

const root = fileURLToPath(new URL('..', import.meta.url));
const migrationsFolder = join(root, 'drizzle');
const out = join(root, 'dist', 'pglite');

/** What the template depends on: PGlite's version (its data directory format) and every migration. */
function stamp() {
  const pglite = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8'),
  );
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(`${path.slice(migrationsFolder.length)}\0`).update(readFileSync(path));
    }
  };
  walk(migrationsFolder);
  return { pglite: pglite.version, migrations: hash.digest('hex') };
}

const wanted = stamp();
const stampFile = join(out, 'stamp.json');
const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
if (current === `${JSON.stringify(wanted)}\n` && existsSync(join(out, 'template', 'PG_VERSION'))) {
  process.stdout.write('pglite template up to date\n');
} else {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const memory = new PGlite();
  await migrate(drizzle({ client: memory }), { migrationsFolder });
  const dump = await memory.dumpDataDir('gzip');
  await memory.close();
  writeFileSync(join(out, 'template.tar.gz'), Buffer.from(await dump.arrayBuffer()));
  const partial = join(out, 'template.partial');
  const disk = new PGlite(partial, { loadDataDir: dump });
  await disk.waitReady;
  await disk.close();
  renameSync(partial, join(out, 'template'));
  // last: a build interrupted before this line makes the template again
  writeFileSync(stampFile, `${JSON.stringify(wanted)}\n`);
  process.stdout.write('pglite template made\n');
}
