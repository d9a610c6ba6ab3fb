import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, newDatabaseUrl, ok, startTestServer, type TestServer } from '../support/harness.js';
import { runVigilToExit, spawnVigil } from '../support/process.js';
import { collect, subscribe } from '../support/subscribe.js';

describe.each(DB_KINDS)('health on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('answers /healthz and /readyz once the database and the change feed are up', async () => {
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'up', changeFeed: 'listening' });
  });

  it('serves a GraphiQL page that needs no CDN', async () => {
    const res = await fetch(`${s.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/<script[^>]+src="https?:\/\//);
    expect(html).not.toMatch(/<link[^>]+href="https?:\/\/[^"]+\.css/);
    expect(html.length).toBeGreaterThan(1_000_000); // the editor is inlined
  });

  it('answers 404 with the error shape for an unknown path', async () => {
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: 'NOT_FOUND' });
  });
});

describe('the process', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-data-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second process on the same PGlite data dir, and frees it on SIGTERM', async () => {
    const dir = join(tempDir(), 'nested', 'data'); // parents are created
    const a = await spawnVigil({ VIGIL_DATA_DIR: dir });
    const b = await runVigilToExit({ VIGIL_DATA_DIR: dir });
    expect(b.code).toBe(1);
    expect(b.output).toContain('is in use by another Vigil process');
    expect(await a.stop('SIGTERM')).toBe(0);
    const c = await spawnVigil({ VIGIL_DATA_DIR: dir });
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200);
    expect(await c.stop('SIGTERM')).toBe(0);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vigil.lock'), '999999\n');
    const p = await spawnVigil({ VIGIL_DATA_DIR: dir });
    expect(p.output()).toContain('listening');
    expect(await p.stop()).toBe(0);
  });

  it('says what is wrong with a bad setting and exits', async () => {
    const r = await runVigilToExit({ PORT: 'eighty', VIGIL_DATA_DIR: tempDir() });
    expect(r.code).toBe(1);
    expect(r.output).toContain('PORT');
  });

  it.each(DB_KINDS)('on SIGTERM (%s) answers open waits, ends streams and exits cleanly', async (kind) => {
    const env: Record<string, string> =
      kind === 'postgres' ? { DATABASE_URL: await newDatabaseUrl() } : { VIGIL_DATA_DIR: tempDir() };
    const p = await spawnVigil(env);
    const server = { url: p.url, gql: undefined } as unknown as TestServer;
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, ...((await res.json()) as object) } as never;
    };
    Object.assign(server, { gql });
    const { id } = await createExecution(server);
    const wait = gql('query($id: ID!) { waitForExecution(id: $id, timeout: 60) { completed execution { status } } }', {
      id,
    });
    const stream = collect(
      subscribe(
        p.url,
        'yoga-sse',
        'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 60) { sequence } }',
        {
          id,
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const code = await p.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const waited = ok(await wait) as { waitForExecution: { completed: boolean; execution: { status: string } } };
    expect(waited.waitForExecution).toEqual({ completed: false, execution: { status: 'PENDING' } });
    await expect(stream).resolves.toEqual([]);
    expect(p.output()).toContain('stopped');
  });
});
