import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator, HeaderReader } from '../../src/access/authenticate.js';
import { openPrincipal, type Principal } from '../../src/domain/access.js';
import { VigilError } from '../../src/domain/errors.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, recordViaRest, rest, UNKNOWN_ID } from '../support/rest.js';

/**
 * Stands in for API keys (API.md §5) until they land: whatever an Authenticator throws must reach a REST client with
 * its code, its status and Retry-After, as on GraphQL.
 */
class FakeKeys implements Authenticator {
  async authenticate(header: HeaderReader): Promise<Principal> {
    const key = header('authorization');
    if (!key) throw new VigilError('UNAUTHORIZED', 'Missing API key');
    if (key === 'Bearer limited') throw new VigilError('RATE_LIMITED', 'Too many requests', { retryAfter: 2 });
    if (key === 'Bearer reader') return { ...openPrincipal(), scopes: new Set(['executions:read']) };
    if (key === 'Bearer writer')
      return { ...openPrincipal(), scopes: new Set(['executions:read', 'executions:write']) };
    if (key === 'Bearer admin') return openPrincipal();
    throw new VigilError('UNAUTHORIZED', 'Unknown API key');
  }
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe.each(DB_KINDS)('REST access errors on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { auth: new FakeKeys() });
  });
  afterAll(() => s.close());

  it('answers 401 UNAUTHORIZED without a key or with an unknown one, on every REST route', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/executions'],
      ['POST', `/api/v1/executions/${UNKNOWN_ID}/events`],
      ['POST', `/api/v1/executions/${UNKNOWN_ID}/wait`],
      ['GET', `/workflows/executions/${UNKNOWN_ID}/wait`],
      ['GET', `/api/v1/executions/${UNKNOWN_ID}/events`],
      ['PATCH', `/api/v1/executions/${UNKNOWN_ID}`],
      ['GET', `/api/v1/executions/${UNKNOWN_ID}`],
    ] as const) {
      const json = method === 'GET' ? undefined : {};
      expectError(await rest(s, method, path, { json }), 401, 'UNAUTHORIZED');
      expectError(await rest(s, method, path, { json, headers: as('nope') }), 401, 'UNAUTHORIZED');
    }
  });

  it('answers 429 RATE_LIMITED with Retry-After', async () => {
    const r = await rest(s, 'GET', `/api/v1/executions/${UNKNOWN_ID}`, { headers: as('limited') });
    expectError(r, 429, 'RATE_LIMITED');
    expect(r.headers.get('retry-after')).toBe('2');
  });

  it('answers 403 FORBIDDEN for a missing scope, and writes nothing', async () => {
    const headers = as('writer');
    const create = await rest<{ id: string }>(s, 'POST', '/api/v1/executions', { json: { workflowId: 'w' }, headers });
    expect(create.status).toBe(201);
    const id = create.body.id;
    expectError(
      await rest(s, 'POST', '/api/v1/executions', { json: { workflowId: 'w' }, headers: as('reader') }),
      403,
      'FORBIDDEN',
    );
    // Marking failed/completed is administrative clean-up (executions:admin); cancelling needs executions:write.
    expectError(
      await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'failed' }, headers }),
      403,
      'FORBIDDEN',
    );
    expectError(
      await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'cancelled' }, headers: as('reader') }),
      403,
      'FORBIDDEN',
    );
    const read = await rest<{ status: string }>(s, 'GET', `/api/v1/executions/${id}`, { headers: as('reader') });
    expect(read.body.status).toBe('pending');
    const cancel = await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'cancelled' }, headers });
    expect(cancel.status).toBe(200);
  });

  it('serves /openapi.json and /docs without a key', async () => {
    expect((await fetch(`${s.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${s.url}/docs`)).status).toBe(200);
  });
});

describe.each(DB_KINDS)('REST during shutdown on %s', (kind) => {
  it('answers open waits with the current state and ends open streams', async () => {
    const s = await startTestServer(kind);
    try {
      const { id } = await createViaRest(s);
      await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
      const wait = rest<{ completed: boolean }>(s, 'POST', `/api/v1/executions/${id}/wait`, { json: { timeout: 60 } });
      const stream = await fetch(`${s.url}/api/v1/executions/${id}/events?timeout=60`);
      const text = stream.text();
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await s.close();
      expect((await wait).body).toMatchObject({ completed: false });
      expect(await text).toContain('id: 1');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await s.close();
    }
  });
});
