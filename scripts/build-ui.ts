import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { manifestJson, persistedDashboardModule, persistedDocuments } from './persisted-documents.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the built dashboard lives; committed, so `npm start` serves it with no build step and writes nothing. */
export const DIST = join(ROOT, 'src/ui/dist');
/** The server's manifest of trusted documents (src/graphql/persisted.ts), written with the dashboard's build. */
export const MANIFEST = join(ROOT, 'src/graphql/persisted-documents.json');

/** The manifest's text as the current sources make it (what `npm run ui:build` writes to MANIFEST). */
export const manifestText = (): string => manifestJson(persistedDocuments());

/**
 * Builds the dashboard in memory: `assets/main-<hash>.js` and `.css` (Preact and the app, bundled and minified by
 * esbuild, pinned to an exact version so the output is byte-for-byte repeatable) and `index.html` naming them.
 * Returns path (relative to the dist folder) → content.
 */
export async function buildDashboard(): Promise<Map<string, Buffer>> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/ui/app/main.tsx'],
    outdir: join(DIST, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox113', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    // the dashboard sends its documents' ids: its documents module becomes the ids (persistedDashboardModule)
    plugins: [
      {
        name: 'persisted-dashboard-documents',
        setup(b) {
          b.onLoad({ filter: /[\\/]src[\\/]client[\\/]sdk[\\/]dashboard\.ts$/ }, () => ({
            contents: persistedDashboardModule(),
            loader: 'js',
          }));
        },
      },
    ],
    legalComments: 'eof',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>();
  for (const f of result.outputFiles) files.set(relative(DIST, f.path).split('\\').join('/'), Buffer.from(f.contents));
  const name = (ext: string) => {
    const found = [...files.keys()].find((p) => p.startsWith('assets/main-') && p.endsWith(ext));
    if (!found) throw new Error(`the build made no ${ext} file`);
    return found.slice('assets/'.length);
  };
  const html = readFileSync(join(ROOT, 'src/ui/app/index.html'), 'utf8')
    .replace('%CSS%', name('.css'))
    .replace('%JS%', name('.js'));
  files.set('index.html', Buffer.from(html));
  return files;
}

/** `npm run ui:build`: replaces src/ui/dist with a fresh build. */
async function main(): Promise<void> {
  const files = await buildDashboard();
  rmSync(DIST, { recursive: true, force: true });
  for (const [path, content] of files) {
    const target = join(DIST, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  writeFileSync(MANIFEST, manifestText());
  const size = [...files.values()].reduce((n, b) => n + b.length, 0);
  console.log(`built ${files.size} files (${(size / 1024).toFixed(1)} KiB) into ${relative(ROOT, DIST)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
