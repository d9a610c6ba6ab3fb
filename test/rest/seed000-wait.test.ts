import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, locsOf, recordViaRest, rest, sleep, UNKNOWN_ID } from '../support/rest.js';

interface WaitReply {
  completed: boolean;
  execution_id: string;
  duration_ms: number;
  message: string | null;
  stats: {
    execution_id: string;
    total_messages: number;
    completed_messages: number;
    failed_messages: number;
    in_progress_messages: number;
    success_rate: number;
  };
}

const message = (messageId: string, status: string) => ({ message: { messageId, status } });

describe.each(DB_KINDS)('seed 000 POST /api/v1/executions/{execution_id}/wait on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const wait = (id: string, options: Parameters<typeof rest>[3] = { json: { timeout: 30 } }) =>
    rest<WaitReply>(s, 'POST', `/api/v1/executions/${id}/wait`, options);

  it('answers at once for a terminal execution with every documented field, snake_case, and the stats', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [
      { statusChanged: { to: 'RUNNING' } },
      message('m1', 'INITIATED'),
      message('m2', 'INITIATED'),
      message('m3', 'INITIATED'),
      message('m4', 'INITIATED'),
      message('m1', 'COMPLETED'),
      message('m2', 'COMPLETED'),
      message('m3', 'FAILED'),
      { statusChanged: { to: 'COMPLETED' } },
    ]);
    const started = Date.now();
    const r = await wait(id);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(['completed', 'duration_ms', 'execution_id', 'message', 'stats']);
    expect(r.body).toMatchObject({ completed: true, execution_id: id, message: expect.any(String) });
    expect(typeof r.body.duration_ms).toBe('number');
    expect(r.body.stats).toEqual({
      execution_id: id,
      total_messages: 4,
      completed_messages: 2,
      failed_messages: 1,
      in_progress_messages: 1,
      success_rate: 2 / 3,
    });
  });

  it('returns as soon as the execution becomes terminal', async () => {
    const { id } = await createViaRest(s);
    const pending = wait(id);
    await sleep(300);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    await sleep(100);
    const finished = Date.now();
    await recordViaRest(s, id, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'boom' } } }]);
    const r = await pending;
    expect(Date.now() - finished).toBeLessThan(1000);
    expect(r.body).toMatchObject({ completed: true, execution_id: id });
    expect(r.body.duration_ms).toBeGreaterThanOrEqual(300);
  });

  it('answers completed: false with the current stats when the timeout passes (200, not an error)', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }, message('m1', 'INITIATED')]);
    const r = await wait(id, { json: { timeout: 1 } });
    expect(r.status).toBe(200);
    expect(r.body.completed).toBe(false);
    expect(r.body.duration_ms).toBeGreaterThanOrEqual(990);
    expect(r.body.stats).toMatchObject({ total_messages: 1, in_progress_messages: 1, success_rate: 0 });
  });

  it('accepts no body, an empty body or {} and then waits the default 300 s', async () => {
    const variants: Parameters<typeof rest>[3][] = [
      {},
      { raw: '', headers: { 'content-type': 'application/json' } },
      { json: {} },
    ];
    const waits = await Promise.all(
      variants.map(async (options) => {
        const { id } = await createViaRest(s);
        const w = { id, settled: false, reply: wait(id, options) };
        void w.reply.then(() => {
          w.settled = true;
        });
        return w;
      }),
    );
    await sleep(1200); // longer than any timeout a wrong default could have given
    expect(waits.map((w) => w.settled)).toEqual([false, false, false]);
    for (const w of waits) {
      expect((await rest(s, 'PATCH', `/api/v1/executions/${w.id}`, { json: { status: 'cancelled' } })).status).toBe(
        200,
      );
      const r = await w.reply;
      expect(r.status).toBe(200);
      expect(r.body.completed).toBe(true);
    }
  });

  it('answers 404 EXECUTION_NOT_FOUND for an unknown id and for an id that is not a UUID', async () => {
    expectError(await wait(UNKNOWN_ID), 404, 'EXECUTION_NOT_FOUND');
    expectError(await wait('exec_abc123'), 404, 'EXECUTION_NOT_FOUND');
  });

  it.each([0, 0.5, 3601, -1, '30', null, true])('answers 422 for a timeout of %j', async (timeout) => {
    const { id } = await createViaRest(s);
    const r = await wait(id, { json: { timeout } });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual(['body.timeout']);
  });

  it('accepts the bounds 1 and 3600', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    expect((await wait(id, { json: { timeout: 1 } })).status).toBe(200);
    expect((await wait(id, { json: { timeout: 3600 } })).status).toBe(200);
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After when the waiter is at capacity', async () => {
    const { id } = await createViaRest(s);
    const before = s.feed.slots.capacity.waiters;
    s.feed.slots.capacity.waiters = s.feed.slots.open.waiters + 1;
    try {
      const first = wait(id, { json: { timeout: 5 } });
      await vi.waitFor(() => expect(s.feed.slots.open.waiters).toBe(s.feed.slots.capacity.waiters));
      const r = await wait(id, { json: { timeout: 5 } });
      expectError(r, 503, 'SERVICE_UNAVAILABLE');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'cancelled' } });
      expect((await first).body.completed).toBe(true);
    } finally {
      s.feed.slots.capacity.waiters = before;
    }
  });

  it('releases the wait when the client hangs up', async () => {
    const { id } = await createViaRest(s);
    const baseline = s.feed.slots.open.waiters;
    const controller = new AbortController();
    const request = fetch(`${s.url}/api/v1/executions/${id}/wait`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout: 60 }),
      signal: controller.signal,
    }).catch(() => null);
    await vi.waitFor(() => expect(s.feed.slots.open.waiters).toBe(baseline + 1));
    controller.abort();
    await request;
    await vi.waitFor(() => expect(s.feed.slots.open.waiters).toBe(baseline));
  });

  it('echoes X-Correlation-Id on success and in errors', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'CANCELLED' } }]);
    const ok = await wait(id, { json: {}, headers: { 'x-correlation-id': 'cli-run-42' } });
    expect(ok.headers.get('x-correlation-id')).toBe('cli-run-42');
    const bad = await wait(UNKNOWN_ID, { json: {}, headers: { 'x-correlation-id': 'cli-run-43' } });
    expect(bad.headers.get('x-correlation-id')).toBe('cli-run-43');
    expect(bad.body).toMatchObject({ correlation_id: 'cli-run-43' });
  });
});
