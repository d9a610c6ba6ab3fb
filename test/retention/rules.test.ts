import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { countDue, deleteDue, type RetentionRule } from '../../src/domain/retention.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { finished, future, kept, read, running } from './support.js';

const WAIT = `query($id: ID!) { waitForExecution(id: $id, timeout: 30) { completed execution { status } } }`;

/** The rules of API.md §10, applied by the one domain function the job and `vigil purge` use. */
describe.each(DB_KINDS)('retention rules (%s)', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_RETENTION_DAYS: '0' } }); // the job off: the test drives it
  });
  afterAll(async () => {
    await s.close();
  });
  const purge = (rule: RetentionRule, batch = 100) => deleteDue(s.database.db, rule, { batch });

  it('deletes terminal executions completed before the cutoff and never a non-terminal one', async () => {
    const done = await finished(s, { workflowId: 'rules-a' });
    const { id: failed } = await createExecution(s, { workflowId: 'rules-a' });
    ok(await record(s, failed, [{ statusChanged: { to: 'FAILED' } }]));
    const busy = await running(s, { workflowId: 'rules-a' });
    const { id: pending } = await createExecution(s, { workflowId: 'rules-a' });
    const rule = { cutoff: future(), workflowId: 'rules-a' };
    expect(await countDue(s.database.db, rule)).toEqual({ executions: 2, events: 4 });
    expect(await purge(rule)).toEqual({ executions: 2, events: 4 });
    expect(await kept(s, [done.id, failed, busy.id, pending])).toEqual([busy.id, pending]);
    expect(await purge(rule)).toEqual({ executions: 0, events: 0 });
  });

  it('keeps an execution completed exactly at the cutoff, deletes it a millisecond later', async () => {
    const done = await finished(s, { workflowId: 'rules-edge' });
    const at = new Date(done.completedAt as string);
    expect(await purge({ cutoff: at, workflowId: 'rules-edge' })).toEqual({ executions: 0, events: 0 });
    expect(await read(s, done.id)).not.toBeNull();
    const later = new Date(at.getTime() + 1);
    expect(await purge({ cutoff: later, workflowId: 'rules-edge' })).toEqual({ executions: 1, events: 3 });
    expect(await read(s, done.id)).toBeNull();
  });

  it('keeps a tree whole while one member is young, and deletes it whole once none is', async () => {
    const root = await finished(s, { workflowId: 'rules-tree' });
    const child = await finished(s, { workflowId: 'rules-tree', parentExecutionId: root.id });
    const young = await finished(s, { workflowId: 'rules-tree', parentExecutionId: child.id });
    const tree = [root.id, child.id, young.id];
    // The cutoff falls after the root's and the child's completion, at the grandchild's.
    const between = new Date(young.completedAt as string);
    expect(await purge({ cutoff: between, workflowId: 'rules-tree' })).toEqual({ executions: 0, events: 0 });
    expect(await kept(s, tree)).toEqual(tree);
    expect(await purge({ cutoff: future(), workflowId: 'rules-tree' })).toEqual({ executions: 3, events: 9 });
    expect(await kept(s, tree)).toEqual([]);
  });

  it('keeps the tree of a finished child under a running parent, and of a running child under a finished root', async () => {
    const parent = await running(s, { workflowId: 'rules-open' });
    const doneChild = await finished(s, { workflowId: 'rules-open', parentExecutionId: parent.id });
    const root = await finished(s, { workflowId: 'rules-open' });
    const busyChild = await running(s, { workflowId: 'rules-open', parentExecutionId: root.id });
    const all = [parent.id, doneChild.id, root.id, busyChild.id];
    expect(await purge({ cutoff: future(), workflowId: 'rules-open' })).toEqual({ executions: 0, events: 0 });
    expect(await kept(s, all)).toEqual(all);
  });

  it('cannot delete the tree of an execution a wait is held on: the waited member is not terminal', async () => {
    const root = await finished(s, { workflowId: 'rules-wait' });
    const child = await running(s, { workflowId: 'rules-wait', parentExecutionId: root.id });
    const waiting = s.gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(WAIT, {
      id: child.id,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await purge({ cutoff: future(), workflowId: 'rules-wait' })).toEqual({ executions: 0, events: 0 });
    ok(await record(s, child.id, [{ statusChanged: { to: 'COMPLETED' } }]));
    expect(ok(await waiting).waitForExecution).toEqual({ completed: true, execution: { status: 'COMPLETED' } });
    expect(await purge({ cutoff: future(), workflowId: 'rules-wait' })).toEqual({ executions: 2, events: 5 });
    expect(await kept(s, [root.id, child.id])).toEqual([]);
  });

  it('goes in bounded batches and deletes every due tree once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await finished(s, { workflowId: 'rules-batch' })).id);
    const batches: number[] = [];
    const total = await deleteDue(
      s.database.db,
      { cutoff: future(), workflowId: 'rules-batch' },
      { batch: 3, onBatch: (d) => batches.push(d.executions), pause: async () => {} },
    );
    expect(total).toEqual({ executions: 7, events: 21 });
    expect(batches).toEqual([3, 3, 1]);
    expect(await kept(s, ids)).toEqual([]);
  });
});

describe('VIGIL_RETENTION_DAYS', () => {
  it('takes days, fractions allowed, 30 by default', () => {
    expect(loadConfig({}).VIGIL_RETENTION_DAYS).toBe(30);
    expect(loadConfig({ VIGIL_RETENTION_DAYS: '0.5' }).VIGIL_RETENTION_DAYS).toBe(0.5);
    expect(loadConfig({ VIGIL_RETENTION_DAYS: '0' }).VIGIL_RETENTION_DAYS).toBe(0);
  });

  it.each(['-1', 'abc', '', '30d', '1e3', 'NaN', ' '])('stops the start on %j, naming it', (value) => {
    expect(() => loadConfig({ VIGIL_RETENTION_DAYS: value })).toThrow(/VIGIL_RETENTION_DAYS: must be a number of days/);
  });
});
