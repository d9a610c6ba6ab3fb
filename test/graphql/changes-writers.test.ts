import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES, type Change, type Changes, cursorOf, readUntil } from '../support/changes.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { rest } from '../support/rest.js';
import { type Subscription, subscribe } from '../support/subscribe.js';

const STATE = `query($id: ID!) { execution(id: $id) { status lastSequence } }`;
const UPDATE = `mutation($id: ID!, $status: ExecutionStatusTarget!, $cascade: Boolean) {
  updateExecutionStatus(id: $id, status: $status, cascade: $cascade) { success }
}`;

/**
 * Every way an execution changes, each followed by the change it must produce: a writer that did not log its change
 * in its transaction leaves the feed without it, and the step waiting for it fails.
 */
describe.each(DB_KINDS)('every writer logs its change (%s)', (kind) => {
  let s: TestServer;
  let sub: Subscription<Changes>;
  const seen: Change[] = [];
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '100' } });
    sub = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { after: await cursorOf(s) }, {}, 120_000);
  });
  afterAll(async () => {
    await sub.close();
    await s.close();
  });

  /** Waits for a change of `id` with its current status and lastSequence, as the database has it now. */
  const expectChange = async (id: string) => {
    const { execution } = ok(await s.gql<{ execution: { status: string; lastSequence: number } }>(STATE, { id }));
    const match = (c: Change) =>
      c.execution.id === id &&
      c.execution.status === execution.status &&
      c.execution.lastSequence === execution.lastSequence;
    const more = await readUntil(sub, (got) => [...seen, ...got].some(match), 8000);
    seen.push(...more);
    expect(seen.some(match), `a change of ${id} at ${execution.status}/${execution.lastSequence}`).toBe(true);
  };

  it('creates: a root, a child, a retry, over GraphQL and REST', async () => {
    const root = await createExecution(s, { workflowId: 'w' });
    await expectChange(root.id);
    const child = await createExecution(s, { workflowId: 'w', parentExecutionId: root.id });
    await expectChange(child.id);
    ok(await record(s, child.id, [{ statusChanged: { to: 'FAILED' } }]));
    await expectChange(child.id);
    const retry = await createExecution(s, { workflowId: 'w', retryOf: child.id });
    await expectChange(retry.id);
    const viaRest = await rest<{ id: string }>(s, 'POST', '/api/v1/executions', { json: { workflowId: 'w' } });
    expect(viaRest.status).toBeLessThan(300);
    await expectChange(viaRest.body.id);
  });

  it('worker batches of every kind, over GraphQL and REST', async () => {
    const { id } = await createExecution(s);
    for (const event of [
      { statusChanged: { to: 'RUNNING' } },
      { progress: { percentage: 30 } },
      { step: { stepId: 's1', status: 'RUNNING' } },
      { message: { messageId: 'm1', status: 'INITIATED' } },
      { tags: { set: [{ key: 'team', value: 'data' }] } },
      { statusChanged: { to: 'WAITING_FOR_INPUT' } },
    ]) {
      ok(await record(s, id, [event]));
      await expectChange(id);
    }
    const viaRest = await rest(s, 'POST', `/api/v1/executions/${id}/events`, {
      json: { events: [{ statusChanged: { to: 'COMPLETED' } }] },
    });
    expect(viaRest.status).toBeLessThan(300);
    await expectChange(id);
  });

  it('the sweeper: heartbeat lost, a worker back, deadline passed', async () => {
    const silent = await createExecution(s, { heartbeatTimeoutSeconds: 1 });
    ok(await record(s, silent.id, [{ statusChanged: { to: 'RUNNING' } }]));
    await expectChange(silent.id);
    await readUntil(
      sub,
      (got) => got.some((c) => c.execution.id === silent.id && c.execution.status === 'INTERRUPTED'),
      8000,
    ).then((got) => seen.push(...got));
    await expectChange(silent.id);
    ok(await record(s, silent.id, [])); // a report moves it back to RUNNING
    await expectChange(silent.id);
    const late = await createExecution(s, { timeoutSeconds: 1 });
    await readUntil(
      sub,
      (got) => got.some((c) => c.execution.id === late.id && c.execution.status === 'TIMED_OUT'),
      8000,
    ).then((got) => seen.push(...got));
    await expectChange(late.id);
  });

  it('client updates: cancel, cascade, admin fail and complete, seed 003 PATCH', async () => {
    const a = await createExecution(s);
    ok(await s.gql(UPDATE, { id: a.id, status: 'CANCELLED' }));
    await expectChange(a.id);
    const root = await createExecution(s);
    const child = await createExecution(s, { parentExecutionId: root.id });
    ok(await s.gql(UPDATE, { id: root.id, status: 'CANCELLED', cascade: true }));
    await expectChange(root.id);
    await expectChange(child.id);
    for (const status of ['FAILED', 'COMPLETED']) {
      const e = await createExecution(s);
      ok(await s.gql(UPDATE, { id: e.id, status }));
      await expectChange(e.id);
    }
    const patched = await createExecution(s);
    const res = await rest(s, 'PATCH', `/api/v1/executions/${patched.id}`, { json: { status: 'cancelled' } });
    expect(res.status).toBe(200);
    await expectChange(patched.id);
  });

  it('a heartbeat alone is not a change', async () => {
    const { id } = await createExecution(s, { heartbeatTimeoutSeconds: 60 });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    await expectChange(id);
    ok(await record(s, id, []));
    ok(await record(s, id, [{ progress: { percentage: 5 } }]));
    await expectChange(id);
    const ofIt = seen.filter((c) => c.execution.id === id).map((c) => c.execution.lastSequence);
    expect(ofIt.filter((n) => n === 1).length).toBe(1); // the heartbeat between added none at sequence 1
  });
});
