import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const WAIT = `query($id: ID!, $timeout: Float) {
  waitForExecution(id: $id, timeout: $timeout) { completed durationMs message execution { id status lastSequence } }
}`;
type Wait = {
  waitForExecution: { completed: boolean; durationMs: number; message: string; execution: { status: string } };
};

describe.each(DB_KINDS)('waitForExecution on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const wait = (id: string, timeout?: number) => s.gql<Wait>(WAIT, { id, timeout });

  it('releases the wait when the client hangs up', async () => {
    const { id } = await createExecution(s);
    const baseline = s.feed.slots.open.waiters;
    const controller = new AbortController();
    const request = fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: WAIT, variables: { id, timeout: 60 } }),
      signal: controller.signal,
    }).catch(() => null);
    await vi.waitFor(() => expect(s.feed.slots.open.waiters).toBe(baseline + 1));
    controller.abort();
    await request;
    await vi.waitFor(() => expect(s.feed.slots.open.waiters).toBe(baseline));
    expect(s.feed.openListeners.executions).toBe(0);
  });

  it('returns at once when the execution is already terminal', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
    const started = Date.now();
    const r = ok(await wait(id, 30)).waitForExecution;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r).toMatchObject({ completed: true, execution: { status: 'COMPLETED' } });
  });

  it('returns as soon as the execution becomes terminal', async () => {
    const { id } = await createExecution(s);
    const pending = wait(id, 30);
    await new Promise((r) => setTimeout(r, 300));
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }])); // not terminal: keeps waiting
    await new Promise((r) => setTimeout(r, 100));
    const finished = Date.now();
    ok(await record(s, id, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'boom' } } }]));
    const r = ok(await pending).waitForExecution;
    expect(Date.now() - finished).toBeLessThan(1000);
    expect(r).toMatchObject({ completed: true, execution: { status: 'FAILED' } });
    expect(r.durationMs).toBeGreaterThanOrEqual(300);
  });

  it('answers completed: false with the current state when the timeout passes (not an error)', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const r = await wait(id, 1);
    expect(r.errors).toBeUndefined();
    expect(r.data?.waitForExecution).toMatchObject({ completed: false, execution: { status: 'RUNNING' } });
    expect(r.data?.waitForExecution.durationMs).toBeGreaterThanOrEqual(990);
  });

  it('wakes every one of many waiters on one execution', async () => {
    const { id } = await createExecution(s);
    const waits = Array.from({ length: 25 }, () => wait(id, 30));
    await new Promise((r) => setTimeout(r, 300));
    ok(await s.gql(`mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED) { success } }`, { id }));
    const all = await Promise.all(waits);
    for (const r of all)
      expect(r.data?.waitForExecution).toMatchObject({ completed: true, execution: { status: 'CANCELLED' } });
  });

  it('answers EXECUTION_NOT_FOUND for an unknown id', async () => {
    expect(codeOf(await wait('01900000-0000-7000-8000-000000000000', 5))).toBe('EXECUTION_NOT_FOUND');
  });

  it.each([0, 0.5, 3601])('refuses a timeout of %s seconds', async (timeout) => {
    const { id } = await createExecution(s);
    expect(codeOf(await wait(id, timeout))).toBe('VALIDATION_FAILED');
  });

  it('lets go of a wait when the client goes away', async () => {
    const { id } = await createExecution(s);
    const controller = new AbortController();
    const pending = fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: WAIT, variables: { id, timeout: 60 } }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(0);
  });
});
