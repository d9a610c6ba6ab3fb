import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  codeOf,
  createExecution,
  DB_KINDS,
  newDatabaseUrl,
  ok,
  record,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const WAIT = `query($ids: [ID!], $filter: ExecutionFilter, $mode: WaitMode, $expectedCount: Int, $timeout: Float) {
  waitForExecutions(ids: $ids, filter: $filter, mode: $mode, expectedCount: $expectedCount, timeout: $timeout) {
    completed durationMs message executions { id status }
  }
}`;
type Waited = {
  waitForExecutions: {
    completed: boolean;
    durationMs: number;
    message: string;
    executions: { id: string; status: string }[];
  };
};
const CANCEL = `mutation($id: ID!, $cascade: Boolean) {
  updateExecutionStatus(id: $id, status: CANCELLED, cascade: $cascade) { success }
}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const complete = [{ statusChanged: { to: 'COMPLETED' } }];
const fail = [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'boom' } } }];

const waitAt = (s: TestServer, variables: Record<string, unknown>) => s.gql<Waited>(WAIT, variables);

/** Nothing of a wait is left on the server: no slot, no hub listener, no update listener. */
function expectNothingWaiting(s: TestServer): void {
  expect(s.feed.slots.open.waiters).toBe(0);
  expect(s.feed.openListeners).toEqual({ executions: 0, updates: 0 });
}

/** `n` executions created through the API in small concurrent rounds. */
async function createMany(s: TestServer, n: number, input: Record<string, unknown>) {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 25) {
    const round = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, () => createExecution(s, input).then((e) => e.id)),
    );
    ids.push(...round);
  }
  return ids;
}

describe.each(DB_KINDS)('waitForExecutions on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('ALL: answers once every id is terminal, in the order of ids', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => createExecution(s).then((e) => e.id)));
    const pending = waitAt(s, { ids, timeout: 30 });
    await sleep(300);
    ok(await record(s, ids[1] as string, complete));
    ok(await record(s, ids[0] as string, fail));
    await sleep(200);
    expect(s.feed.slots.open.waiters).toBe(1); // one still running: keeps waiting
    const last = Date.now();
    ok(await s.gql(CANCEL, { id: ids[2] }));
    const r = ok(await pending).waitForExecutions;
    expect(Date.now() - last).toBeLessThan(1000);
    expect(r.completed).toBe(true);
    expect(r.executions).toEqual([
      { id: ids[0], status: 'FAILED' },
      { id: ids[1], status: 'COMPLETED' },
      { id: ids[2], status: 'CANCELLED' },
    ]);
    expect(r.durationMs).toBeGreaterThanOrEqual(500);
    await vi.waitFor(() => expectNothingWaiting(s));
  });

  it('ANY: answers as soon as the first one is terminal', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => createExecution(s).then((e) => e.id)));
    const pending = waitAt(s, { ids, mode: 'ANY', timeout: 30 });
    await sleep(300);
    ok(await record(s, ids[2] as string, [{ statusChanged: { to: 'RUNNING' } }])); // not terminal
    await sleep(100);
    ok(await record(s, ids[1] as string, complete));
    const r = ok(await pending).waitForExecutions;
    expect(r.completed).toBe(true);
    expect(r.executions.map((e) => e.status)).toEqual(['PENDING', 'COMPLETED', 'RUNNING']);
    expect(r.message).toContain(ids[1]);
  });

  it('answers at once when the condition already holds', async () => {
    const [a, b] = await Promise.all([createExecution(s), createExecution(s)]);
    ok(await record(s, a?.id as string, complete));
    const started = Date.now();
    const any = ok(await waitAt(s, { ids: [b?.id, a?.id], mode: 'ANY', timeout: 30 })).waitForExecutions;
    expect(any.completed).toBe(true);
    ok(await record(s, b?.id as string, complete));
    const all = ok(await waitAt(s, { ids: [a?.id, b?.id], timeout: 30 })).waitForExecutions;
    expect(all.completed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers completed: false with the current states at the timeout (not an error)', async () => {
    const [a, b] = await Promise.all([createExecution(s), createExecution(s)]);
    ok(await record(s, a?.id as string, complete));
    const r = await waitAt(s, { ids: [a?.id, b?.id], timeout: 1 });
    expect(r.errors).toBeUndefined();
    expect(r.data?.waitForExecutions).toMatchObject({
      completed: false,
      executions: [{ status: 'COMPLETED' }, { status: 'PENDING' }],
    });
    expect(r.data?.waitForExecutions.durationMs).toBeGreaterThanOrEqual(990);
    expect(r.data?.waitForExecutions.message).toMatch(/Timed out after 1 s; 1 of 2 finished/);
    expectNothingWaiting(s);
  });

  it('with a filter and expectedCount, counts executions created after the wait began', async () => {
    const tag = { key: 'batch', value: randomUUID() };
    const filter = { tags: [tag] };
    const first = await createExecution(s, { tags: [tag] });
    ok(await record(s, first.id, complete));
    const pending = waitAt(s, { filter, expectedCount: 3, timeout: 30 });
    await sleep(300);
    const second = await createExecution(s, { tags: [tag] });
    await createExecution(s, { tags: [{ key: 'batch', value: 'another' }] }); // does not match
    ok(await record(s, second.id, complete));
    await sleep(300);
    expect(s.feed.slots.open.waiters).toBe(1); // 2 of 3 expected: keeps waiting
    const third = await createExecution(s, { tags: [tag] });
    await sleep(200);
    expect(s.feed.slots.open.waiters).toBe(1); // 3 match, one still running
    const last = Date.now();
    ok(await record(s, third.id, fail));
    const r = ok(await pending).waitForExecutions;
    expect(Date.now() - last).toBeLessThan(1000);
    expect(r.completed).toBe(true);
    expect(r.executions.map((e) => e.id)).toEqual([third.id, second.id, first.id]); // newest first
    await vi.waitFor(() => expectNothingWaiting(s));
  });

  it('with a filter and ANY, answers when the first match ends, a new one included', async () => {
    const tag = { key: 'batch', value: randomUUID() };
    const pending = waitAt(s, { filter: { tags: [tag] }, mode: 'ANY', timeout: 30 });
    await sleep(300);
    const e = await createExecution(s, { tags: [tag] });
    ok(await s.gql(CANCEL, { id: e.id }));
    const r = ok(await pending).waitForExecutions;
    expect(r).toMatchObject({ completed: true, executions: [{ id: e.id, status: 'CANCELLED' }] });
  });

  it('with a filter and no match yet, times out (expectedCount defaults to 1)', async () => {
    const r = ok(await waitAt(s, { filter: { workflowId: `none-${randomUUID()}` }, timeout: 1 })).waitForExecutions;
    expect(r).toMatchObject({ completed: false, executions: [] });
    expect(r.message).toContain('0 of 0 finished; 1 expected');
  });

  it('waits on 1,000 ids released by 1,000 completions in one batch; 1,001 matches of a filter are refused', async () => {
    const root = await createExecution(s, { workflowId: 'wf-many' });
    const ids = await createMany(s, 1000, { workflowId: 'wf-many', parentExecutionId: root.id });
    const attaching = s.feed.stats.reads;
    const pending = waitAt(s, { ids, timeout: 60 });
    await vi.waitFor(() => expect(s.feed.openListeners.executions).toBe(1000), { timeout: 20_000 });
    await sleep(200); // the hubs' first reads are done
    const reads = s.feed.stats.reads;
    expect(reads - attaching).toBe(1); // the 1,000 new hubs read their rows together
    const last = Date.now();
    ok(await s.gql(CANCEL, { id: root.id, cascade: true })); // one transaction ends all 1,001
    const r = ok(await pending).waitForExecutions;
    const took = Date.now() - last;
    expect(r.completed).toBe(true);
    expect(r.executions.map((e) => e.id)).toEqual(ids);
    expect(new Set(r.executions.map((e) => e.status))).toEqual(new Set(['CANCELLED']));
    expect(took).toBeLessThan(10_000);
    // One set read for the commit in this process (not one per execution, per waiter or per poll).
    expect(s.feed.stats.reads - reads).toBeLessThanOrEqual(2);
    console.log(`${kind}: 1,000 ids released ${took} ms after the cascade was sent`);
    await vi.waitFor(() => expectNothingWaiting(s));

    const over = await waitAt(s, { filter: { rootExecutionId: root.id }, timeout: 5 });
    expect(codeOf(over)).toBe('VALIDATION_FAILED');
    expect(over.errors?.[0]?.message).toContain('More than 1000');
    expectNothingWaiting(s);
  }, 120_000);

  it.each([
    ['both ids and filter', { ids: [randomUUID()], filter: {} }],
    ['neither ids nor filter', {}],
    ['an empty ids list', { ids: [] }],
    ['1,001 ids, whatever they name', { ids: Array.from({ length: 1001 }, () => randomUUID()) }],
    ['a duplicate id', { ids: ['01900000-0000-7000-8000-000000000000', '01900000-0000-7000-8000-000000000000'] }],
    [
      'the same id in two cases',
      { ids: ['01900000-0000-7000-8000-00000000000a', '01900000-0000-7000-8000-00000000000A'] },
    ],
    ['a timeout of 0 s', { ids: [randomUUID()], timeout: 0 }],
    ['a timeout over 3600 s', { ids: [randomUUID()], timeout: 3601 }],
    ['an expectedCount of 0', { filter: {}, expectedCount: 0 }],
    ['an expectedCount over 1,000', { filter: {}, expectedCount: 1001 }],
    ['a bad filter', { filter: { idPrefix: 'xyz' } }],
    ['an idPrefix with the letter x', { filter: { idPrefix: 'Xc' } }],
  ])('refuses %s with VALIDATION_FAILED, and nothing waits', async (_name, variables) => {
    const r = await waitAt(s, { timeout: 5, ...variables });
    expect(codeOf(r)).toBe('VALIDATION_FAILED');
    expectNothingWaiting(s);
  });

  it('answers EXECUTION_NOT_FOUND when any id is unknown (or of another environment), and nothing waits', async () => {
    const { id } = await createExecution(s);
    const unknown = await waitAt(s, { ids: [id, '01900000-0000-7000-8000-000000000000'], timeout: 5 });
    expect(codeOf(unknown)).toBe('EXECUTION_NOT_FOUND');
    expect(unknown.errors?.[0]?.message).toContain('01900000-0000-7000-8000-000000000000');
    expect(codeOf(await waitAt(s, { ids: [id, 'not-an-id'], timeout: 5 }))).toBe('EXECUTION_NOT_FOUND');
    const live = await s.gql(WAIT, { ids: [id], timeout: 5 }, { 'x-environment': 'live' });
    expect(codeOf(live)).toBe('EXECUTION_NOT_FOUND');
    expectNothingWaiting(s);
  });

  it.each(['ids', 'filter'])('lets go of a wait on %s when the client goes away', async (how) => {
    const { id } = await createExecution(s, { workflowId: 'wf-gone' });
    const controller = new AbortController();
    const variables = how === 'ids' ? { ids: [id], timeout: 60 } : { filter: { workflowId: 'wf-gone' }, timeout: 60 };
    const pending = fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: WAIT, variables }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    await expect.poll(() => s.feed.slots.open.waiters, { timeout: 5000 }).toBe(1);
    await expect.poll(() => s.feed.openListeners.executions + s.feed.openListeners.updates, { timeout: 5000 }).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await expect.poll(() => s.feed.slots.open.waiters, { timeout: 5000 }).toBe(0);
    expectNothingWaiting(s);
  });
});

describe.each(DB_KINDS)('waitForExecutions against its bounds, on %s', (kind) => {
  it('refuses past VIGIL_MAX_WAITERS with SERVICE_UNAVAILABLE, and answers open waits at shutdown', async () => {
    const s = await startTestServer(kind, { env: { VIGIL_MAX_WAITERS: '2' } });
    try {
      const { id } = await createExecution(s, { workflowId: 'wf-bounds' });
      const held = [
        waitAt(s, { ids: [id], timeout: 60 }),
        waitAt(s, { filter: { workflowId: 'wf-bounds' }, timeout: 60 }),
      ];
      await expect.poll(() => s.feed.slots.open.waiters, { timeout: 5000 }).toBe(2);
      const refused = await waitAt(s, { ids: [id], timeout: 60 });
      expect(codeOf(refused)).toBe('SERVICE_UNAVAILABLE');
      await sleep(100);
      const closing = s.close();
      for (const r of await Promise.all(held)) {
        expect(r.data?.waitForExecutions).toMatchObject({ completed: false, executions: [{ id, status: 'PENDING' }] });
        expect(r.data?.waitForExecutions.message).toContain('Server shutting down');
      }
      await closing;
    } finally {
      await s.close();
    }
  });
});

describe('waitForExecutions across two instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    a = await startTestServer('postgres', { databaseUrl: url });
    b = await startTestServer('postgres', { databaseUrl: url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('wakes a wait on ids held on A when B ends the last execution, within 2 s', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => createExecution(b).then((e) => e.id)));
    const pending = waitAt(a, { ids, timeout: 30 });
    await sleep(300);
    ok(await record(b, ids[0] as string, complete));
    ok(await record(b, ids[1] as string, complete));
    const last = Date.now();
    ok(await record(b, ids[2] as string, complete));
    const r = ok(await pending).waitForExecutions;
    expect(Date.now() - last).toBeLessThan(2000);
    expect(r.executions.map((e) => e.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('wakes a wait on a filter held on A with executions B creates and ends afterwards, within 2 s', async () => {
    const tag = { key: 'fleet', value: randomUUID() };
    const pending = waitAt(a, { filter: { tags: [tag] }, expectedCount: 2, timeout: 30 });
    await sleep(300);
    const x = await createExecution(b, { tags: [tag] });
    const y = await createExecution(b, { tags: [tag] });
    ok(await record(b, x.id, complete));
    const last = Date.now();
    ok(await record(b, y.id, complete));
    const r = ok(await pending).waitForExecutions;
    expect(Date.now() - last).toBeLessThan(2000);
    expect(r).toMatchObject({ completed: true, executions: [{ id: y.id }, { id: x.id }] });
  });
});
