import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/domain/access.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, revokeKey, type TestKey } from '../support/keys.js';
import { rest } from '../support/rest.js';

const ABSENT = '01900000-0000-7000-8000-000000000000';

/** Every REST operation with the scope it needs (API.md §5) and how to call it for an execution id. */
const OPERATIONS: {
  name: string;
  scope: Scope;
  call: (s: TestServer, id: string, h: Record<string, string>) => Promise<{ status: number; body: unknown }>;
}[] = [
  {
    name: 'seed 000 wait',
    scope: 'executions:read',
    call: (s, id, h) => rest(s, 'POST', `/api/v1/executions/${id}/wait`, { json: { timeout: 1 }, headers: h }),
  },
  {
    name: 'seed 001 wait',
    scope: 'executions:read',
    call: (s, id, h) => rest(s, 'GET', `/workflows/executions/${id}/wait?timeoutMs=1000`, { headers: h }),
  },
  {
    name: 'seed 002 events',
    scope: 'executions:read',
    call: (s, id, h) => streamStatus(s, `/api/v1/executions/${id}/events?timeout=1`, h),
  },
  {
    name: 'seed 003 cancel',
    scope: 'executions:write',
    call: (s, id, h) => rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'cancelled' }, headers: h }),
  },
  {
    name: 'seed 003 mark failed',
    scope: 'executions:admin',
    call: (s, id, h) => rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'failed' }, headers: h }),
  },
  {
    name: 'seed 003 mark completed',
    scope: 'executions:admin',
    call: (s, id, h) => rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'completed' }, headers: h }),
  },
  {
    name: 'seed 004 get',
    scope: 'executions:read',
    call: (s, id, h) => rest(s, 'GET', `/api/v1/executions/${id}?include=metrics`, { headers: h }),
  },
  {
    name: 'ingest events',
    scope: 'executions:write',
    call: (s, id, h) => rest(s, 'POST', `/api/v1/executions/${id}/events`, { json: { events: [] }, headers: h }),
  },
];

/** Opens a stream and returns its status (and error body when it is not a stream), without reading it to the end. */
async function streamStatus(s: TestServer, path: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(`${s.url}${path}`, { headers, signal: controller.signal });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  controller.abort();
  return { status: res.status, body };
}

describe.each(DB_KINDS)('REST access on %s', (kind) => {
  let s: TestServer;
  let owner: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on', VIGIL_KEY_RECHECK_MS: '300' } });
    owner = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin']);
    other = await makeKey(s, 'globex', ['executions:read', 'executions:write', 'executions:admin']);
  });
  afterAll(() => s.close());

  it.each([...OPERATIONS.map((o) => o.name), 'ingest create'])('%s without a key is 401 UNAUTHORIZED', async (name) => {
    const { id } = await createExecution(s, {}, owner.headers);
    const op = OPERATIONS.find((o) => o.name === name);
    const res = op
      ? await op.call(s, id, {})
      : await rest(s, 'POST', '/api/v1/executions', { json: { workflowId: 'x' } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error_code: 'UNAUTHORIZED' });
  });

  describe('every scope × operation', () => {
    const keys: Partial<Record<Scope, TestKey>> = {};
    beforeAll(async () => {
      for (const scope of ['executions:read', 'executions:write', 'executions:admin'] as Scope[])
        keys[scope] = await makeKey(s, 'acme', [scope]);
    });
    for (const op of OPERATIONS) {
      for (const scope of ['executions:read', 'executions:write', 'executions:admin'] as Scope[]) {
        const allowed = op.scope === scope;
        it(`${op.name} with only ${scope} is ${allowed ? 'allowed' : '403 FORBIDDEN'}`, async () => {
          const { id } = await createExecution(s, {}, owner.headers);
          const res = await op.call(s, id, keys[scope]?.headers ?? {});
          if (allowed) expect(res.status, JSON.stringify(res.body)).toBe(200);
          else {
            expect(res.status).toBe(403);
            expect(res.body).toMatchObject({ error_code: 'FORBIDDEN' });
          }
        });
      }
    }
    it('ingest create needs executions:write', async () => {
      const read = await rest(s, 'POST', '/api/v1/executions', {
        json: { workflowId: 'x' },
        headers: keys['executions:read']?.headers,
      });
      expect(read.status).toBe(403);
      const write = await rest(s, 'POST', '/api/v1/executions', {
        json: { workflowId: 'x' },
        headers: keys['executions:write']?.headers,
      });
      expect(write.status).toBe(201);
    });
  });

  it.each(OPERATIONS.map((o) => [o.name, o] as const))(
    '%s on another organization’s execution is 404, as for one that does not exist',
    async (_n, op) => {
      const { id } = await createExecution(s, {}, owner.headers);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }], owner.headers));
      const theirs = await op.call(s, id, other.headers);
      const absent = await op.call(s, ABSENT, other.headers);
      expect(theirs.status).toBe(404);
      expect(absent.status).toBe(404);
      const strip = (b: unknown) => ({
        ...(b as Record<string, unknown>),
        correlation_id: '',
        timestamp: '',
        detail: String((b as { detail: string }).detail).replace(id, ABSENT),
      });
      expect(strip(theirs.body)).toEqual(strip(absent.body));
      const still = await rest<{ status: string }>(s, 'GET', `/api/v1/executions/${id}`, { headers: owner.headers });
      expect(still.body.status).toBe('running');
    },
  );

  it('keeps environments apart and refuses one the key may not use', async () => {
    const both = await makeKey(s, 'acme', ['executions:read', 'executions:write'], ['test', 'live']);
    const created = await rest<{ id: string }>(s, 'POST', '/api/v1/executions', {
      json: { workflowId: 'env' },
      headers: { ...both.headers, 'x-environment': 'live' },
    });
    expect(created.status).toBe(201);
    const fromTest = await rest(s, 'GET', `/api/v1/executions/${created.body.id}`, {
      headers: { ...both.headers, 'x-environment': 'test' },
    });
    expect(fromTest.status).toBe(404);
    const forbidden = await rest(s, 'GET', `/api/v1/executions/${created.body.id}`, {
      headers: { ...owner.headers, 'x-environment': 'live' },
    });
    expect(forbidden.status).toBe(403);
    const missing = await rest(s, 'GET', `/api/v1/executions/${created.body.id}`, { headers: both.headers });
    expect(missing.status).toBe(422);
  });

  it('ends an open seed 002 stream when its key is revoked', async () => {
    const k = await makeKey(s, 'acme', ['executions:read']);
    const { id } = await createExecution(s, {}, owner.headers);
    const events: string[] = [];
    let opened = 0;
    const es = new EventSource(`${s.url}/api/v1/executions/${id}/events?timeout=60`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...k.headers } }),
    });
    es.addEventListener('open', () => opened++);
    es.addEventListener('progress', (e) => events.push(e.data));
    await expect.poll(() => opened, { timeout: 5000 }).toBe(1);
    ok(await record(s, id, [{ progress: { percentage: 5 } }], owner.headers));
    await expect.poll(() => events.length, { timeout: 5000 }).toBe(1);
    await revokeKey(s, k.id);
    // The stream ends; a reconnect with the revoked key is refused, so the client gives up.
    await expect.poll(() => es.readyState, { timeout: 8000 }).toBe(EventSource.CLOSED);
    es.close();
    const again = await streamStatus(s, `/api/v1/executions/${id}/events?timeout=5`, k.headers);
    expect(again.status).toBe(401);
  });
});
