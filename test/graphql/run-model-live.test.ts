import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, subscribe, TRANSPORTS, take } from '../support/subscribe.js';

const UPDATED = `subscription($filter: ExecutionFilter) {
  executionUpdated(filter: $filter) { id status lastSequence tags { key value } }
}`;
type Up = { executionUpdated: { id: string; status: string; lastSequence: number } };
const EVENTS = `subscription($id: ID!) { executionEvents(executionId: $id) { sequence type ... on StatusChangedEvent { to } } }`;
const WAIT = `query($id: ID!) { waitForExecution(id: $id, timeout: 20) { completed execution { status } } }`;
const CANCEL = `mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED, cascade: true) { success } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('the run model live on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('emits executionUpdated with a tag filter for matching changes and not for others', async () => {
      const team = { key: 'team', value: `live-${transport}` };
      const sub = subscribe<Up>(s.url, transport, UPDATED, { filter: { tags: [team] } });
      await sleep(300);
      const other = await createExecution(s, { workflowId: 'wf-live-tags', tags: [{ key: 'team', value: 'other' }] });
      const mine = await createExecution(s, { workflowId: 'wf-live-tags', tags: [team, { key: 'x', value: '1' }] });
      ok(await record(s, other.id, [{ statusChanged: { to: 'RUNNING' } }]));
      ok(await record(s, mine.id, [{ statusChanged: { to: 'RUNNING' } }]));
      // A tags event that makes an execution match is a matching change.
      ok(await record(s, other.id, [{ tags: { set: [team] } }]));
      const got = await take(sub, 3);
      expect(got.map((r) => [r.data?.executionUpdated.id, r.data?.executionUpdated.lastSequence])).toEqual([
        [mine.id, 0],
        [mine.id, 1],
        [other.id, 2],
      ]);
      await sub.close();
    });
  });

  it('wakes the waiters and streams of every execution a cascade cancels', async () => {
    const parent = await createExecution(s, { workflowId: 'wf-live-cascade' });
    const child = await createExecution(s, { workflowId: 'wf-live-cascade', parentExecutionId: parent.id });
    const grandchild = await createExecution(s, { workflowId: 'wf-live-cascade', parentExecutionId: child.id });
    const stream = subscribe<{ executionEvents: { sequence: number; to?: string } }>(
      s.url,
      'graphql-sse-distinct',
      EVENTS,
      { id: grandchild.id },
    );
    const waiting = s.gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(WAIT, {
      id: child.id,
    });
    await sleep(300);
    const started = Date.now();
    ok(await s.gql(CANCEL, { id: parent.id }));
    expect(ok(await waiting).waitForExecution).toEqual({ completed: true, execution: { status: 'CANCELLED' } });
    const events = await collect(stream);
    expect(events.map((e) => e.data?.executionEvents.to)).toEqual(['CANCELLED']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
