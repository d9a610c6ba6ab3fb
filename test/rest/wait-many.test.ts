import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, locsOf, recordViaRest, rest, sleep, UNKNOWN_ID } from '../support/rest.js';

type Waited = {
  completed: boolean;
  durationMs: number;
  message: string;
  executions: { id: string; status: string; environment: string; tags: { key: string; value: string }[] }[];
};
const GQL_WAIT = `query($ids: [ID!], $timeout: Float) {
  waitForExecutions(ids: $ids, timeout: $timeout) { completed executions { id status environment } }
}`;

describe.each(DB_KINDS)('POST /api/v1/executions/wait on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const wait = (json: unknown) => rest<Waited>(s, 'POST', '/api/v1/executions/wait', { json });

  it('answers the same object as GraphQL once every id is terminal', async () => {
    const a = await createViaRest(s);
    const b = await createViaRest(s);
    const pending = wait({ ids: [b.id, a.id], mode: 'ALL', timeout: 30 });
    await sleep(300);
    await recordViaRest(s, a.id, [{ statusChanged: { to: 'COMPLETED' } }]);
    await recordViaRest(s, b.id, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'boom' } } }]);
    const r = await pending;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ completed: true, message: 'All 2 executions finished' });
    expect(r.body.executions.map((e) => [e.id, e.status, e.environment])).toEqual([
      [b.id, 'FAILED', 'TEST'],
      [a.id, 'COMPLETED', 'TEST'],
    ]);
    const g = ok(await s.gql<{ waitForExecutions: unknown }>(GQL_WAIT, { ids: [b.id, a.id], timeout: 5 }));
    expect(g.waitForExecutions).toEqual({
      completed: true,
      executions: r.body.executions.map((e) => ({ id: e.id, status: e.status, environment: e.environment })),
    });
  });

  it('waits on a filter in GraphQL names, tags as [{key, value}], with expectedCount and ANY', async () => {
    const tag = { key: 'ci', value: randomUUID() };
    const pending = wait({ filter: { tags: [tag], workflowId: 'wf-rest' }, expectedCount: 2, timeout: 30 });
    const any = wait({ filter: { tags: [tag] }, mode: 'ANY', timeout: 30 });
    await sleep(300);
    const x = await createViaRest(s, { tags: [tag] });
    await recordViaRest(s, x.id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const first = await any;
    expect(first.body).toMatchObject({ completed: true, executions: [{ id: x.id, status: 'COMPLETED' }] });
    const y = await createViaRest(s, { tags: [tag] });
    await recordViaRest(s, y.id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body.completed).toBe(true);
    expect(r.body.executions.map((e) => e.id)).toEqual([y.id, x.id]);
    expect(r.body.executions[0]?.tags).toEqual([tag]);
  });

  it('answers completed: false at the timeout (200, not an error)', async () => {
    const a = await createViaRest(s);
    const r = await wait({ ids: [a.id], timeout: 1 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ completed: false, executions: [{ id: a.id, status: 'PENDING' }] });
    expect(r.body.durationMs).toBeGreaterThanOrEqual(990);
  });

  it('refuses bad bodies with 422 naming the field, before any lookup, and nothing waits', async () => {
    const cases: [unknown, string][] = [
      [{ ids: Array.from({ length: 1001 }, () => randomUUID()) }, 'body.ids'],
      [{ ids: [UNKNOWN_ID, UNKNOWN_ID] }, 'body.ids.1'],
      [{ ids: [] }, 'body.ids'],
      [{}, 'body.ids'],
      [{ ids: [UNKNOWN_ID], filter: {} }, 'body.filter'],
      [{ ids: [UNKNOWN_ID], mode: 'SOME' }, 'body.mode'],
      [{ filter: {}, expectedCount: 0 }, 'body.expectedCount'],
      [{ ids: [UNKNOWN_ID], timeout: 3601 }, 'body.timeout'],
      [{ filter: { tags: [{ key: 'a b', value: 'x' }] } }, 'body.filter.tags.0.key'],
      [{ ids: [UNKNOWN_ID], extra: 1 }, 'body'],
    ];
    for (const [json, loc] of cases) {
      const r = await wait(json);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(locsOf(r), JSON.stringify(json).slice(0, 80)).toContain(loc);
    }
    expectError(
      await rest(s, 'POST', '/api/v1/executions/wait', { raw: '{', headers: { 'content-type': 'application/json' } }),
      422,
      'VALIDATION_FAILED',
    );
    expect(s.feed.slots.open.waiters).toBe(0);
    expect(s.feed.openListeners).toEqual({ executions: 0, updates: 0 });
  });

  it('answers 404 when any id is unknown, and 1,000 ids are accepted', async () => {
    const a = await createViaRest(s);
    expectError(await wait({ ids: [a.id, UNKNOWN_ID], timeout: 5 }), 404, 'EXECUTION_NOT_FOUND');
    const many = [a.id, ...Array.from({ length: 999 }, () => randomUUID())];
    expectError(await wait({ ids: many, timeout: 5 }), 404, 'EXECUTION_NOT_FOUND'); // looked up: 1,000 is fine
    expect(s.feed.slots.open.waiters).toBe(0);
  });

  it('is described in /openapi.json', async () => {
    const doc = (await rest<{ paths: Record<string, Record<string, unknown>> }>(s, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/v1/executions/wait'] ?? {})).toEqual(['post']);
  });
});
