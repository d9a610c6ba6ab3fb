#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` builds): bundles src/ into dist/ for `npm start` and `vigil`.
// - dist/server/: the server (`npm start` runs dist/server/main.js), one ES module bundle split at every dynamic
//   import, so what a request may never need (GraphiQL's page, PGlite's code when DATABASE_URL is set, pino-pretty
//   when piped) is its own chunk, read only if used. Bundled and minified (whitespace and syntax; names kept, so a
//   stack trace still names its functions), a process starts in about half the time and idles ~30 MB smaller than
//   one that resolves and compiles the ~1,500 files of node_modules it uses one by one (figures: README,
//   "Footprint"). Source maps are written beside it for `node --enable-source-maps dist/server/main.js`; `npm start`
//   leaves them off, because node then parses them at start (+1 s, +13 MB).
// - dist/cli/: the CLI, bundled the same way; each command's code is a chunk its command imports when it runs, so
//   `vigil --help` reads a few files, and `vigil keys` alone loads the database code.
// Paths relative to a module hold in both (both directories are two levels below the checkout, as src/<dir>/ is):
// `../../drizzle` (migrations), `../../package.json`; the dashboard's assets go to dist/server/dist, where
// ui/serve.ts's `./dist` points once bundled. PGlite stays a package import: it loads its WebAssembly and data files
// from its own directory. Plain JavaScript so that it runs before anything is compiled.
// - dist/pglite/: a migrated, empty PGlite database (scripts/pglite-template.mjs), which a fresh data directory starts
//   from; kept across builds while PGlite and drizzle/ are unchanged.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');

const common = {
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  minifySyntax: true,
  minifyWhitespace: true,
  external: ['@electric-sql/pglite'],
  // CommonJS packages bundled into an ES module call `require` for node's own modules: give them one.
  banner: {
    js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

mkdirSync(out, { recursive: true });
for (const entry of readdirSync(out, { withFileTypes: true }).filter(
  (e) => e.name !== 'pglite' && e.name !== 'types',
)) {
  rmSync(join(out, entry.name), { recursive: true, force: true });
}
await build({ ...common, entryPoints: { main: join(src, 'main.ts') }, outdir: join(out, 'server') });
// The server's manifest of trusted documents (src/graphql/persisted.ts reads it beside its module).
cpSync(join(src, 'graphql', 'persisted-documents.json'), join(out, 'server', 'persisted-documents.json'));
// The CLI sends its documents' ids (src/client/persisted.ts), from the table of the same documents.
await build({
  ...common,
  entryPoints: { main: join(src, 'cli', 'main.ts') },
  outdir: join(out, 'cli'),
  define: { __VIGIL_DOCUMENT_IDS__: JSON.stringify(await documentIds()) },
});
// dist/client/: `vigil/client` (package.json `exports`), one ES module with its few dependencies (graphql-sse,
// graphql.web) inside, for Node and browsers alike; its declarations (dist/types/) come from tsc, rebuilt only when
// the SDK's sources changed (tsc takes seconds; the test run builds every time).
await build({
  bundle: true,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  format: 'esm',
  target: 'es2022',
  entryPoints: { index: join(src, 'client', 'sdk', 'index.ts') },
  outdir: join(out, 'client'),
  metafile: true,
  logLevel: 'warning',
}).then(({ metafile }) => writeFileSync(join(out, 'client', 'meta.json'), JSON.stringify(metafile)));
buildClientTypes();
// The committed dashboard build, served by the server bundle from its `./dist`.
cpSync(join(src, 'ui', 'dist'), join(out, 'server', 'dist'), { recursive: true });
execFileSync(process.execPath, ['--liftoff-only', join(root, 'scripts', 'pglite-template.mjs')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.stdout.write(`built ${relative(process.cwd(), out) || out}\n`);

/** scripts/persisted-documents.ts's table, run from a bundle of it (this script runs before anything is compiled). */
async function documentIds() {
  const file = join(out, 'persisted-documents.mjs');
  await build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    entryPoints: [join(root, 'scripts', 'persisted-documents.ts')],
    outfile: file,
    logLevel: 'warning',
  });
  try {
    const { idTable, persistedDocuments } = await import(pathToFileURL(file).href);
    return idTable(persistedDocuments());
  } finally {
    rmSync(file, { force: true });
  }
}

function buildClientTypes() {
  const types = join(out, 'types');
  const stamp = join(types, 'sdk', 'index.d.ts');
  const sources = [join(root, 'tsconfig.client.json'), join(src, 'client', 'client.ts')].concat(
    readdirSync(join(src, 'client', 'sdk')).map((f) => join(src, 'client', 'sdk', f)),
  );
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest) return;
  rmSync(types, { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.client.json')], { stdio: 'inherit' });
  cpSync(join(src, 'client', 'sdk', 'graphql-env.d.ts'), join(types, 'sdk', 'graphql-env.d.ts'));
}
