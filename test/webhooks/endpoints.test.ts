import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, createWebhook, deliveries, eventually, startHookServer } from './support.js';

const DELETE = 'mutation($id: ID!) { deleteWebhook(id: $id) { id } }';
const CANCEL_TREE =
  'mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED, cascade: true) { success } }';
const forExecution = (id: string) => (r: { body: { data?: { execution?: { id?: unknown } } } }) =>
  r.body.data?.execution?.id === id;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The endpoints a status change writes deliveries for are read in its own transaction: never a stale copy. */
describe.each(DB_KINDS)('the endpoints of a status change on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind);
    rx = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it('an endpoint created just before the change gets its delivery', async () => {
    const { id } = await createExecution(s); // before the endpoint: nothing of this run is read after it
    const hook = await createWebhook(s, { url: rx.url });
    ok(await s.gql(COMPLETE, { id }));
    const [got] = await rx.waitFor(1, forExecution(id), 3000);
    expect(got?.body).toMatchObject({ type: 'execution.terminal', data: { execution: { id, status: 'COMPLETED' } } });
    await s.gql(DELETE, { id: hook.id });
  });

  it('an endpoint deleted just before the change gets nothing, while one still there does', async () => {
    const gone = await createWebhook(s, { url: `${rx.url}/gone` });
    const kept = await createWebhook(s, { url: `${rx.url}/kept` });
    const first = await createExecution(s);
    ok(await s.gql(COMPLETE, { id: first.id })); // both endpoints in use
    await rx.waitFor(2, forExecution(first.id), 3000);
    ok(await s.gql(DELETE, { id: gone.id }));
    const { id } = await createExecution(s);
    ok(await s.gql(COMPLETE, { id }));
    const [got] = await rx.waitFor(1, forExecution(id), 3000);
    expect(got?.headers['vigil-delivery-id']).toBeDefined();
    await pause(300); // a delivery to the deleted endpoint would arrive now
    expect(rx.received.filter(forExecution(id))).toHaveLength(1);
    expect((await deliveries(s, kept.id)).filter((d) => d.executionId === id)).toHaveLength(1);
    await s.gql(DELETE, { id: kept.id });
  });

  it('a cascade writes one delivery per execution it ends, each with its own previous status', async () => {
    const hook = await createWebhook(s, { url: rx.url });
    const root = await createExecution(s, { workflowId: 'tree' });
    const child = await createExecution(s, { workflowId: 'tree', parentExecutionId: root.id });
    ok(await record(s, child.id, [{ statusChanged: { to: 'RUNNING' } }]));
    ok(await s.gql(CANCEL_TREE, { id: root.id }));
    const got = await eventually(
      () => deliveries(s, hook.id),
      (list) => list.length === 2,
    );
    const previous = new Map(got.map((d) => [d.executionId, d.payload.data.previousStatus]));
    expect(previous).toEqual(
      new Map([
        [root.id, 'PENDING'],
        [child.id, 'RUNNING'],
      ]),
    );
    expect(got.every((d) => d.payload.data.execution.status === 'CANCELLED')).toBe(true);
    await s.gql(DELETE, { id: hook.id });
  });

  it("a worker's terminal report writes its delivery in the report's transaction", async () => {
    const hook = await createWebhook(s, { url: rx.url });
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'COMPLETED' } }]));
    // Listed as soon as the report is answered: written with it, not after it.
    const [d] = await deliveries(s, hook.id);
    expect(d).toMatchObject({ executionId: id, type: 'execution.terminal' });
    expect(d?.payload.data).toMatchObject({ previousStatus: 'PENDING', execution: { status: 'COMPLETED' } });
    await s.gql(DELETE, { id: hook.id });
  });
});

describe('the endpoints of a status change across two instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    a = await startHookServer('postgres');
    b = await startHookServer('postgres', { databaseUrl: a.databaseUrl });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await rx?.close();
  });

  it('an endpoint created on one is used by a change on the other right after', async () => {
    const ids = [(await createExecution(b)).id, (await createExecution(b)).id];
    ok(await b.gql(COMPLETE, { id: ids[0] })); // B has made a change (and read the endpoints) before
    const hook = await createWebhook(a, { url: rx.url });
    ok(await b.gql(COMPLETE, { id: ids[1] }));
    const [d] = await deliveries(a, hook.id);
    expect(d?.executionId).toBe(ids[1]);
    await rx.waitFor(1, forExecution(ids[1] as string), 3000);
    await a.gql(DELETE, { id: hook.id });
  });

  it('an endpoint deleted on one gets nothing of a change on the other right after', async () => {
    const hook = await createWebhook(a, { url: rx.url });
    const first = await createExecution(b);
    ok(await b.gql(COMPLETE, { id: first.id }));
    await rx.waitFor(1, forExecution(first.id), 3000);
    ok(await a.gql(DELETE, { id: hook.id }));
    const { id } = await createExecution(b);
    ok(await b.gql(COMPLETE, { id }));
    await pause(500);
    expect(rx.received.filter(forExecution(id))).toEqual([]);
  });
});
