import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, DIST, MANIFEST, manifestText } from '../../scripts/build-ui.js';
import { idOfText, operationsOf, persistedDocuments } from '../../scripts/persisted-documents.js';
import * as dashboard from '../../src/client/sdk/dashboard.js';
import { textOf } from '../../src/client/sdk/transport.js';
import { startTestServer, type TestServer } from '../support/harness.js';

function committed(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return out;
}

describe('the committed dashboard build', () => {
  it('is exactly what `npm run ui:build` makes from the current sources (else: run it and commit)', async () => {
    const built = await buildDashboard();
    const onDisk = committed(DIST);
    expect([...onDisk.keys()].sort(), 'src/ui/dist is stale (run npm run ui:build and commit it)').toEqual(
      [...built.keys()].sort(),
    );
    for (const [path, content] of built) {
      expect(onDisk.get(path)?.equals(content), `src/ui/dist/${path} is stale: run npm run ui:build`).toBe(true);
    }
  });

  it("holds the server's manifest of trusted documents as the current sources make it (else: npm run ui:build)", () => {
    expect(readFileSync(MANIFEST, 'utf8'), 'src/graphql/persisted-documents.json is stale: run npm run ui:build').toBe(
      manifestText(),
    );
  });

  it("carries its documents as their persisted ids, not as text to parse (each one in the server's manifest)", () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const script = /src="\/assets\/([^"]+\.js)"/.exec(html)?.[1] as string;
    const js = readFileSync(join(DIST, 'assets', script), 'utf8');
    const manifest = persistedDocuments();
    const operations = operationsOf(dashboard as Record<string, unknown>);
    expect(operations.size).toBeGreaterThan(10);
    for (const [name, doc] of operations) {
      const id = idOfText(textOf(doc));
      expect(manifest.has(id), `${name} is not in the manifest`).toBe(true);
      expect(js, `${name}'s id is not in the bundle`).toContain(id);
      const heading = /^(query|mutation|subscription) \w+/.exec(textOf(doc))?.[0] as string;
      expect(js, `${name}'s text is in the bundle`).not.toContain(heading);
    }
    expect(js).not.toContain('fragment DashboardRow');
  });

  it('names no other origin: every script, style and request stays on the Vigil server', () => {
    for (const [path, content] of committed(DIST)) {
      const text = content.toString('utf8');
      // the only absolute URLs in the bundle are XML namespace names inside Preact, which are never fetched
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map((m) => m[0]);
      expect(
        urls.filter((u) => !/^http:\/\/www\.w3\.org\//.test(u)),
        path,
      ).toEqual([]);
    }
  });
});

/** The dashboard and the CLI are clients of the public API: they import no server code (issue 8). */
describe('the clients of the public API', () => {
  const SRC = new URL('../../src/', import.meta.url).pathname;
  const files = (dir: string): string[] =>
    readdirSync(join(SRC, dir)).flatMap((name) => {
      const rel = `${dir}/${name}`;
      return statSync(join(SRC, rel)).isDirectory() ? files(rel) : /\.tsx?$/.test(name) ? [rel] : [];
    });
  const imports = (rel: string) =>
    [...readFileSync(join(SRC, rel), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
  const resolve = (rel: string, spec: string) =>
    spec.startsWith('.') ? new URL(spec, `file:///${rel}`).pathname.slice(1) : spec;

  it.each([
    ['client', /^(client\/|graphql-sse$|gql\.tada$|@0no-co\/graphql\.web$)/],
    ['ui/app', /^(ui\/app\/|client\/|preact(\/hooks)?$|anser$|@tanstack\/virtual-core$)/],
    [
      'cli (wait, watch, logs, get, list, cancel)',
      /^(cli\/(connect|documents|format|wait|wait-many|watch|logs|bar|executions|run-options|run-detail)\.js$|client\/|commander$|picocolors$)/,
    ],
  ])('%s imports only the client and its own libraries', (what, allowed) => {
    const dir = what.split(' ')[0] as string;
    const own =
      dir === 'cli'
        ? [
            'cli/connect.ts',
            'cli/documents.ts',
            'cli/format.ts',
            'cli/wait.ts',
            'cli/wait-many.ts',
            'cli/watch.ts',
            'cli/logs.ts',
            'cli/bar.ts',
            'cli/executions.ts',
            'cli/run-options.ts',
            'cli/run-detail.ts',
          ]
        : files(dir);
    const offending = own.flatMap((f) =>
      imports(f)
        .map((spec) => resolve(f, spec))
        .filter((target) => !allowed.test(target))
        .map((target) => `${f} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('the dashboard as served', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s?.close());

  it('serves the page at / with a same-origin-only content security policy', async () => {
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<div id="app">');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(2);
    for (const path of assets) {
      const a = await fetch(`${s.url}${path}`);
      expect(a.status).toBe(200);
      expect(a.headers.get('cache-control')).toContain('immutable');
      expect(a.headers.get('content-type')).toMatch(/^text\/(javascript|css)/);
    }
  });

  it('answers a revalidation with 304, HEAD without a body, other methods with 405, unknown assets with 404', async () => {
    const first = await fetch(`${s.url}/`);
    const etag = first.headers.get('etag') ?? '';
    expect((await fetch(`${s.url}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await fetch(`${s.url}/index.html`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${s.url}/`, { method: 'POST' })).status).toBe(405);
    const missing = await fetch(`${s.url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: 'NOT_FOUND' });
  });

  it('leaves GraphiQL at /graphql', async () => {
    const res = await fetch(`${s.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('GraphiQL');
  });
});
