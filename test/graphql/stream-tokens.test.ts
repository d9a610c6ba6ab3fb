import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey } from '../support/keys.js';
import { collect, subscribe } from '../support/subscribe.js';

const TTL_MS = 1000;
const PER_KEY = 3;
const STREAM = '/graphql/stream';
const TOKEN = 'x-graphql-event-stream-token';
const EVENTS = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 5) { sequence type } }';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

async function reserve(s: TestServer, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${s.url}${STREAM}`, { method: 'PUT', headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Opens the reserved stream and hangs up once its status is known. */
async function open(s: TestServer, token: string, headers: Record<string, string> = {}): Promise<Reply> {
  const controller = new AbortController();
  const res = await fetch(`${s.url}${STREAM}`, {
    headers: { ...headers, accept: 'text/event-stream', [TOKEN]: token },
    signal: controller.signal,
  });
  const text = res.headers.get('content-type')?.includes('json') ? await res.text() : '';
  controller.abort();
  return { status: res.status, headers: res.headers, text };
}

function expectCode(r: Reply, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  const body = JSON.parse(r.text) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors[0]?.extensions.code).toBe(code);
  expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack in a body
}

describe.each(DB_KINDS)('graphql-sse single-connection reservations on %s', (kind) => {
  describe.each(['off', 'on'] as const)('auth %s', (authMode) => {
    let s: TestServer;
    let reader: Record<string, string>;
    let other: Record<string, string>;
    beforeAll(async () => {
      s = await startTestServer(kind, {
        env: {
          VIGIL_AUTH: authMode,
          VIGIL_SSE_RESERVATION_TTL_MS: String(TTL_MS),
          VIGIL_SSE_RESERVATIONS_PER_KEY: String(PER_KEY),
        },
      });
      reader = authMode === 'on' ? (await makeKey(s, 'acme', ['executions:read', 'executions:write'])).headers : {};
      other = authMode === 'on' ? (await makeKey(s, 'acme', ['executions:read'])).headers : {};
    });
    afterAll(() => s.close());

    it("still works with graphql-sse's own client in single-connection mode", async () => {
      const { id } = await createExecution(s, {}, reader);
      ok(await record(s, id, [{ progress: { percentage: 50 } }, { statusChanged: { to: 'COMPLETED' } }], reader));
      const results = await collect(subscribe(s.url, 'graphql-sse-single', EVENTS, { id }, reader));
      const events = results.map(
        (r) => (r.data as { executionEvents: { sequence: number; type: string } } | null)?.executionEvents,
      );
      expect(results.every((r) => r.errors === undefined)).toBe(true);
      expect(events.map((e) => e?.sequence)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)?.type).toBe('STATUS_CHANGED');
    });

    it('opens a reserved stream within the time allowed, and never after it (404 NOT_FOUND)', async () => {
      const fresh = await reserve(s, reader);
      expect(fresh.status).toBe(201);
      expect((await open(s, fresh.text, reader)).status).toBe(200);

      const stale = await reserve(s, reader);
      expect(stale.status).toBe(201);
      await sleep(TTL_MS + 300);
      expectCode(await open(s, stale.text, reader), 404, 'NOT_FOUND');
    });

    it(`bounds live reservations to ${PER_KEY} per ${authMode === 'on' ? 'key' : 'address'} (429 RATE_LIMITED with Retry-After), freed as they expire`, async () => {
      await sleep(TTL_MS + 300); // what earlier tests reserved has expired
      for (let i = 0; i < PER_KEY; i++) expect((await reserve(s, reader)).status).toBe(201);
      expect((await reserve(s, { ...reader, accept: 'application/json' })).status).toBe(406); // holds nothing
      const refused = await reserve(s, reader);
      expectCode(refused, 429, 'RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      if (authMode === 'on') expect((await reserve(s, other)).status).toBe(201); // another key has its own bound
      await sleep(TTL_MS + 300);
      expect((await reserve(s, reader)).status).toBe(201);
    });

    if (authMode === 'on') {
      it('needs the access subscribing needs: 401 UNAUTHORIZED without a valid key, 403 FORBIDDEN without executions:read', async () => {
        expectCode(await reserve(s), 401, 'UNAUTHORIZED');
        expectCode(await reserve(s, { authorization: 'Bearer vk_test_nope' }), 401, 'UNAUTHORIZED');
        const writer = await makeKey(s, 'acme', ['executions:write']);
        expectCode(await reserve(s, writer.headers), 403, 'FORBIDDEN');
      });

      it("does not open another key's reservation (404 NOT_FOUND, as an unknown token)", async () => {
        const mine = await reserve(s, reader);
        expect(mine.status).toBe(201);
        expectCode(await open(s, mine.text, other), 404, 'NOT_FOUND');
        expectCode(await open(s, mine.text), 401, 'UNAUTHORIZED');
        expect((await open(s, mine.text, reader)).status).toBe(200);
      });
    }
  });
});
