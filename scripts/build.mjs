#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` builds): compiles src/ into dist/ for `npm start` and `vigil`.
// The server: one JavaScript file per TypeScript file (esbuild transpiles; `npm run typecheck` is the type check),
// with source maps, in the same layout as src/, so paths relative to a module (`../../drizzle`, the dashboard's
// `./dist`) hold in both. The CLI: bundled into dist/cli/ with its client and its three small libraries, so that a
// command reads a few files instead of resolving a hundred (graphql-sse's index would also load all of graphql,
// which the client never uses); what only `vigil keys` needs (the database code) stays in the per-file output and
// is imported when that command runs. Plain JavaScript so that it runs before anything is compiled.
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');
/** The dashboard's sources are bundled for the browser by `npm run ui:build`, not run by node. */
const browserOnly = join(src, 'ui', 'app');
const cli = join(src, 'cli');
const client = join(src, 'client');
/** The only packages bundled into the CLI; every other import of it stays an import. */
const cliPackages = new Set(['commander', 'picocolors', 'graphql-sse']);

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === browserOnly || path === cli) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: sources(src),
  outdir: out,
  outbase: src,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: [join(cli, 'main.ts')],
  outdir: join(out, 'cli'),
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // commander is CommonJS and requires node's modules; an ES module has no `require` of its own
  banner: {
    js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'cli-externals',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point' || !args.importer.startsWith(`${src}/`)) return undefined;
          if (!args.path.startsWith('.')) {
            const name = args.path.startsWith('@')
              ? args.path.split('/').slice(0, 2).join('/')
              : args.path.split('/')[0];
            return cliPackages.has(name) ? undefined : { path: args.path, external: true };
          }
          // Server code (`vigil keys`) stays in the per-file output next door: dist/cli/../db/client.js
          const target = join(args.resolveDir, args.path);
          if (target.startsWith(`${cli}/`) || target.startsWith(`${client}/`)) return undefined;
          return {
            path: relative(cli, target)
              .split('\\')
              .join('/')
              .replace(/^(?!\.)/, './'),
            external: true,
          };
        });
      },
    },
  ],
  logLevel: 'warning',
});
// The committed dashboard build, served by dist/ui/serve.js from its own `./dist`.
cpSync(join(src, 'ui', 'dist'), join(out, 'ui', 'dist'), { recursive: true });
process.stdout.write(`built ${relative(process.cwd(), out) || out}\n`);
