import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, NetworkError, type RequestParams } from 'graphql-sse';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistedDocuments } from '../../scripts/persisted-documents.js';
import { VigilClient } from '../../src/client/client.js';
import { EventsWithLogs, RunList, ViewerQuery } from '../../src/client/sdk/dashboard.js';
import { CreateExecution, GetExecution, RecordEvents } from '../../src/client/sdk/documents.js';
import { graphql } from '../../src/client/sdk/graphql.js';
import { query, textOf } from '../../src/client/sdk/transport.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { readSse } from '../support/sse.js';

/** Trusted documents (issue 21, item 3): ids from the manifest, over every path and transport, on both databases. */

const manifest = persistedDocuments();
const ids = new Map([...manifest].map(([id, text]) => [text, id]));
const idOf = (doc: Parameters<typeof textOf>[0]): string => {
  const id = ids.get(textOf(doc));
  if (!id) throw new Error('not a persisted document');
  return id;
};
const UNKNOWN = `sha256:${'0'.repeat(64)}`;
const RAW = '{ executions(first: 1) { nodes { id } } }';

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(s: TestServer, body: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const codeOf = (a: Answer) => a.body.errors?.[0]?.extensions?.code;

async function completedExecution(s: TestServer): Promise<string> {
  const created = await post(s, { documentId: idOf(CreateExecution), variables: { input: { workflowId: 'wf-ids' } } });
  expect(created.body.errors).toBeUndefined();
  const id = (created.body.data as { createExecution: { id: string } }).createExecution.id;
  const events = [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'COMPLETED' } }];
  const recorded = await post(s, { documentId: idOf(RecordEvents), variables: { id, events, key: null } });
  expect(recorded.body.errors).toBeUndefined();
  return id;
}

type Transport = 'yoga-sse' | 'graphql-sse-distinct' | 'graphql-sse-single';

/** Every result of a subscription sent as `request` (an id or a text), until it completes. */
async function subscribeAll(s: TestServer, transport: Transport, request: Record<string, unknown>) {
  const out: { data?: unknown; errors?: { extensions?: { code?: string } }[] }[] = [];
  if (transport === 'yoga-sse') {
    const res = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(request),
    });
    if (!res.headers.get('content-type')?.includes('text/event-stream')) return [await res.json()];
    for await (const m of readSse(res)) {
      if (m.event === 'complete') break;
      if (m.event === 'next') out.push(JSON.parse(m.data));
    }
    return out;
  }
  const client = createClient({
    url: `${s.url}/graphql/stream`,
    singleConnection: transport === 'graphql-sse-single',
    retryAttempts: 0,
  });
  try {
    for await (const r of client.iterate(request as unknown as RequestParams)) out.push(r as (typeof out)[number]);
  } catch (err) {
    // a refused request: graphql-sse's NetworkError carries the response, whose body has the contract's code
    // (single-connection mode has aborted its body by then: its status tells, 422 or 403)
    if (err instanceof NetworkError && err.response) {
      const res = err.response as unknown as Response;
      const body = (await res.json().catch(() => null)) as (typeof out)[number] | null;
      out.push(body ?? { errors: [{ extensions: { code: `HTTP_${res.status}` } }] });
    } else out.push({ errors: Array.isArray(err) ? err : [{ extensions: { code: String(err) } }] });
  } finally {
    client.dispose();
  }
  return out;
}

describe.each(DB_KINDS)('trusted documents on %s', (kind) => {
  const servers: Record<string, TestServer> = {};
  beforeAll(async () => {
    // lean: the compiled and lean SSE paths answer what they can; yoga: every request through the libraries
    servers.lean = await startTestServer(kind, { env: { VIGIL_TRUSTED_DOCUMENTS: 'require' } });
    servers.yoga = await startTestServer(kind, {
      env: { VIGIL_TRUSTED_DOCUMENTS: 'require', VIGIL_FAST_GRAPHQL: 'off' },
    });
    servers.allow = await startTestServer(kind);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });

  describe.each(['lean', 'yoga'])('with VIGIL_TRUSTED_DOCUMENTS=require, %s path', (path) => {
    const s = () => servers[path] as TestServer;

    it('runs a mutation and a query sent by id (documentId, and persistedQuery in extensions)', async () => {
      const id = await completedExecution(s());
      const byId = await post(s(), { documentId: idOf(GetExecution), variables: { id } });
      expect(byId.status).toBe(200);
      expect(byId.body.data?.execution).toMatchObject({ id, status: 'COMPLETED', workflowId: 'wf-ids' });
      const hash = idOf(GetExecution).slice('sha256:'.length);
      const apollo = await post(s(), {
        extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
        variables: { id },
      });
      expect(apollo.body.data?.execution).toMatchObject({ id, status: 'COMPLETED' });
    });

    it("sends a persisted document (gql.tada's graphql.persisted, as the dashboard's build makes) as its id", async () => {
      const id = await completedExecution(s());
      const client = new VigilClient({ url: s().url });
      const doc = graphql.persisted<typeof GetExecution>(idOf(GetExecution));
      expect(doc.definitions).toEqual([]);
      const r = await query(client, doc, { id });
      expect(r.execution).toMatchObject({ id, status: 'COMPLETED', workflowId: 'wf-ids' });
    });

    it('runs a query by id over GET too (persistedQuery in extensions)', async () => {
      const persistedQuery = { version: 1, sha256Hash: idOf(ViewerQuery).slice('sha256:'.length) };
      const params = new URLSearchParams({ extensions: JSON.stringify({ persistedQuery }) });
      const res = await fetch(`${s().url}/graphql?${params}`, { headers: { accept: 'application/json' } });
      const body = (await res.json()) as Answer['body'];
      expect(body.errors).toBeUndefined();
      expect(body.data?.viewer).toMatchObject({ organizationId: 'default' });
    });

    it('answers an unknown or malformed id with VALIDATION_FAILED, and runs nothing', async () => {
      for (const documentId of [UNKNOWN, 'sha256:xyz', 42]) {
        const a = await post(s(), { documentId, variables: {} });
        expect(a.status).toBeLessThan(500);
        expect(codeOf(a), JSON.stringify(a.body)).toBe('VALIDATION_FAILED');
        expect(a.body.data ?? null).toBeNull();
      }
    });

    it('refuses a document sent as text with FORBIDDEN, naming the setting', async () => {
      const a = await post(s(), { query: RAW });
      expect(a.status).toBe(403);
      expect(codeOf(a)).toBe('FORBIDDEN');
      expect(a.body.errors?.[0]?.message).toContain('VIGIL_TRUSTED_DOCUMENTS=require');
    });

    it("runs a manifest document sent as text, and introspection (GraphiQL's schema)", async () => {
      const viewer = await post(s(), { query: textOf(ViewerQuery) });
      expect(viewer.body.data?.viewer).toMatchObject({ organizationId: 'default' });
      const schema = await post(s(), { query: '{ __schema { queryType { name } } }' });
      expect(schema.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    });

    it.each(['yoga-sse', 'graphql-sse-distinct', 'graphql-sse-single'] as const)(
      'subscribes by id over %s; an unknown id and a text are refused',
      async (transport) => {
        const id = await completedExecution(s());
        const events = await subscribeAll(s(), transport, {
          documentId: idOf(EventsWithLogs),
          variables: { id, timeout: 5 },
        });
        expect(
          events.map((e) => (e.data as { executionEvents: { sequence: number } }).executionEvents.sequence),
        ).toEqual([1, 2]);
        const unknown = await subscribeAll(s(), transport, { documentId: UNKNOWN, variables: { id } });
        expect(unknown.at(-1)?.errors?.[0]?.extensions?.code).toMatch(/^(VALIDATION_FAILED|HTTP_422)$/);
        const text = await subscribeAll(s(), transport, {
          query: 'subscription($id: ID!) { executionEvents(executionId: $id) { sequence } }',
          variables: { id },
        });
        expect(text.at(-1)?.errors?.[0]?.extensions?.code).toMatch(/^(FORBIDDEN|HTTP_403)$/);
      },
    );
  });

  it('with VIGIL_TRUSTED_DOCUMENTS=allow (the default), runs text and ids alike', async () => {
    const s = servers.allow as TestServer;
    expect((await post(s, { query: RAW })).body.errors).toBeUndefined();
    const byId = await post(s, { documentId: idOf(RunList), variables: { first: 1 } });
    expect(byId.body.errors).toBeUndefined();
    expect(byId.body.data?.executions).toMatchObject({ pageInfo: { hasNextPage: false } });
    expect(codeOf(await post(s, { documentId: UNKNOWN }))).toBe('VALIDATION_FAILED');
  });

  it('the built CLI sends ids: get, list and watch work on a server that refuses text', async () => {
    const s = servers.lean as TestServer;
    const id = await completedExecution(s);
    const env = { VIGIL_URL: s.url };
    const list = await runCli(['list', '--json'], env);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    const get = await runCli(['get', id], env);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toContain('wf-ids');
    const watch = await runCli(['watch', id], env);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toContain('COMPLETED');
  });
});

describe('the built dashboard sends ids', () => {
  let browser: Browser;
  let s: TestServer;
  beforeAll(async () => {
    browser = await launchChromium();
    s = await startTestServer('pglite', { env: { VIGIL_TRUSTED_DOCUMENTS: 'require' } });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists and opens an execution on a server that refuses text, sending no document text', async () => {
    const id = await completedExecution(s);
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/graphql')) bodies.push(r.postData() ?? r.url());
    });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${s.url}/`);
    const row = page.locator(`[data-testid=execution-row][data-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    await page.getByText('wf-ids').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'trusted-documents-detail.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) expect(body).not.toContain('"query"');
    expect(bodies.some((b) => b.includes('"documentId":"sha256:'))).toBe(true);
  });

  it('carries each id it sends, and no document the dashboard does not send (the CLI-only ones)', () => {
    const dist = join(new URL('../../src/ui/dist/', import.meta.url).pathname);
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    const script = /src="\/assets\/([^"]+\.js)"/.exec(html)?.[1] as string;
    const js = readFileSync(join(dist, 'assets', script), 'utf8');
    for (const doc of [ViewerQuery, RunList, EventsWithLogs]) expect(js).toContain(idOf(doc));
    expect(js).not.toContain('query RunView(');
    expect(js).not.toContain('subscription TypedEvents(');
  });
});
