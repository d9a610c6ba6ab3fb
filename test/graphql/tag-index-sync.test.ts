import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const COUNT = `query($filter: ExecutionFilter) { executionCounts(filter: $filter) { total byStatus { status count } } }`;
const LIST = `query($filter: ExecutionFilter) { executions(filter: $filter, first: 100) { nodes { id status } } }`;
const CANCEL = `mutation($id: ID!, $cascade: Boolean) {
  updateExecutionStatus(id: $id, status: CANCELLED, cascade: $cascade) { success }
}`;
const WAIT = `query($id: ID!) { waitForExecution(id: $id, timeout: 15) { completed execution { status } } }`;

type Counts = { total: number; byStatus: { status: string; count: number }[] };

/**
 * Tag filters read `execution_tags`, which triggers on `executions` keep: its rows and their copy of the status must
 * follow every writer (create, a worker's batch and its `tags` event, a client's cancel and its cascade, the sweeper),
 * or a tag's list and counts drift from the executions themselves.
 */
describe.each(DB_KINDS)('the tag index follows every write on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '200' } });
  });
  afterAll(() => s.close());

  const counts = async (filter: Record<string, unknown>) => {
    const c = ok(await s.gql<{ executionCounts: Counts }>(COUNT, { filter })).executionCounts;
    return Object.fromEntries(c.byStatus.filter((x) => x.count > 0).map((x) => [x.status, x.count]));
  };
  const list = async (filter: Record<string, unknown>) =>
    ok(await s.gql<{ executions: { nodes: { id: string; status: string }[] } }>(LIST, { filter })).executions.nodes;

  it('counts and lists a tag by the executions’ current status and tags', async () => {
    const run = `sync-${kind}`;
    const pair = { key: 'run', value: run };
    const make = (extra: Record<string, unknown> = {}) =>
      createExecution(s, { workflowId: 'wf-sync', tags: [pair, { key: 'side', value: 'a' }], ...extra });
    const worked = await make();
    const cancelled = await make();
    const parent = await make();
    const child = await make({ parentExecutionId: parent.id });
    const timed = await make({ timeoutSeconds: 1 });
    const retagged = await make();
    const untagged = await createExecution(s, { workflowId: 'wf-sync' });

    ok(await record(s, worked.id, [{ statusChanged: { to: 'RUNNING' } }]));
    ok(await record(s, worked.id, [{ statusChanged: { to: 'COMPLETED' } }]));
    ok(await s.gql(CANCEL, { id: cancelled.id }));
    ok(await s.gql(CANCEL, { id: parent.id, cascade: true }));
    expect(
      ok(await s.gql<{ waitForExecution: { completed: boolean } }>(WAIT, { id: timed.id })).waitForExecution,
    ).toMatchObject({ completed: true, execution: { status: 'TIMED_OUT' } });
    ok(
      await record(s, retagged.id, [
        { tags: { set: [{ key: 'run', value: `${run}-moved` }], remove: ['side'] } },
        { statusChanged: { to: 'RUNNING' } },
      ]),
    );
    ok(await record(s, untagged.id, [{ tags: { set: [pair] } }]));

    expect(await counts({ tags: [pair] })).toEqual({ COMPLETED: 1, CANCELLED: 3, TIMED_OUT: 1, PENDING: 1 });
    expect(await counts({ tags: [pair, { key: 'side', value: 'a' }] })).toEqual({
      COMPLETED: 1,
      CANCELLED: 3,
      TIMED_OUT: 1,
    });
    expect(await counts({ tags: [pair], status: ['CANCELLED', 'PENDING'] })).toEqual({ CANCELLED: 3, PENDING: 1 });
    expect(await counts({ tags: [{ key: 'run', value: `${run}-moved` }] })).toEqual({ RUNNING: 1 });
    expect(await counts({ tags: [{ key: 'side', value: 'a' }], parentExecutionId: parent.id })).toEqual({
      CANCELLED: 1,
    });

    const expected = [untagged, timed, child, parent, cancelled, worked].map((e) => e.id);
    expect((await list({ tags: [pair] })).map((e) => e.id)).toEqual(expected);
    expect(await list({ tags: [pair], status: ['CANCELLED'] })).toEqual(
      [child, parent, cancelled].map((e) => ({ id: e.id, status: 'CANCELLED' })),
    );
    expect(await list({ tags: [{ key: 'side', value: 'a' }], parentExecutionId: parent.id })).toEqual([
      { id: child.id, status: 'CANCELLED' },
    ]);
  });

  it('keeps each tag’s copy of the workflow: a tag by workflow lists and counts what the executions say', async () => {
    const pair = { key: 'wf-sync', value: kind };
    const a = await createExecution(s, { workflowId: 'wf-sync-a', tags: [pair] });
    const b = await createExecution(s, { workflowId: 'wf-sync-b', tags: [pair] });
    const later = await createExecution(s, { workflowId: 'wf-sync-b' });
    ok(await record(s, later.id, [{ tags: { set: [pair] } }])); // its row written by the update trigger
    ok(await record(s, b.id, [{ statusChanged: { to: 'RUNNING' } }])); // its row's status updated in place
    expect(await counts({ tags: [pair], workflowId: 'wf-sync-b' })).toEqual({ PENDING: 1, RUNNING: 1 });
    expect(await counts({ tags: [pair], workflowId: 'wf-sync-a' })).toEqual({ PENDING: 1 });
    expect(await counts({ tags: [pair], workflowIdPrefix: 'wf-sync-' })).toEqual({ PENDING: 2, RUNNING: 1 });
    expect(await list({ tags: [pair], workflowId: 'wf-sync-b' })).toEqual([
      { id: later.id, status: 'PENDING' },
      { id: b.id, status: 'RUNNING' },
    ]);
    // No API changes a workflow; by hand, the trigger rewrites the execution's rows with the new one.
    await s.database.db.execute(sql`update executions set workflow_id = 'wf-sync-c' where id = ${a.id}::uuid`);
    expect(await counts({ tags: [pair], workflowId: 'wf-sync-a' })).toEqual({});
    expect(await list({ tags: [pair], workflowId: 'wf-sync-c' })).toEqual([{ id: a.id, status: 'PENDING' }]);
  });
});
