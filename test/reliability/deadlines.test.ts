import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExecution,
  DB_KINDS,
  newDatabaseUrl,
  ok,
  record,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const STATE = `query($id: ID!) { execution(id: $id) { status error { code message } completedAt lastSequence
  events { sequence type ... on StatusChangedEvent { from to } } } }`;
type State = {
  execution: {
    status: string;
    error: { code: string } | null;
    completedAt: string | null;
    lastSequence: number;
    events: { type: string; from?: string; to?: string }[];
  };
};
const WAIT = 'query($id: ID!, $t: Float) { waitForExecution(id: $id, timeout: $t) { completed execution { status } } }';

describe.each(DB_KINDS)('deadlines and heartbeats on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '200' } });
  });
  afterAll(() => s.close());
  const state = async (id: string) => ok(await s.gql<State>(STATE, { id })).execution;

  it('moves an execution past timeoutSeconds to TIMED_OUT within 2 s of its deadline, and a wait returns', async () => {
    const { id } = await createExecution(s, { timeoutSeconds: 1 });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const started = Date.now();
    const waited = ok(
      await s.gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(WAIT, { id, t: 10 }),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(waited.waitForExecution).toEqual({ completed: true, execution: { status: 'TIMED_OUT' } });
    const e = await state(id);
    expect(e.error?.code).toBe('TIMED_OUT');
    expect(e.completedAt).not.toBeNull();
    expect(e.events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', from: 'RUNNING', to: 'TIMED_OUT' });
  });

  it('moves a silent execution to INTERRUPTED, keeps waits waiting, and resumes it on the next report', async () => {
    const { id } = await createExecution(s, { heartbeatTimeoutSeconds: 1 });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const wait = s.gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(WAIT, { id, t: 6 });
    await expect.poll(async () => (await state(id)).status, { timeout: 4000, interval: 100 }).toBe('INTERRUPTED');
    ok(await record(s, id, [{ progress: { percentage: 50 } }]));
    expect((await state(id)).status).toBe('RUNNING');
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
    expect(ok(await wait).waitForExecution).toEqual({ completed: true, execution: { status: 'COMPLETED' } });
    const kinds = (await state(id)).events.filter((e) => e.type === 'STATUS_CHANGED').map((e) => `${e.from}>${e.to}`);
    expect(kinds).toEqual(['PENDING>RUNNING', 'RUNNING>INTERRUPTED', 'INTERRUPTED>RUNNING', 'RUNNING>COMPLETED']);
  });

  it('keeps an execution that reports in time RUNNING', async () => {
    const { id } = await createExecution(s, { heartbeatTimeoutSeconds: 1 });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 300));
      ok(await record(s, id, [])); // heartbeat
    }
    expect((await state(id)).status).toBe('RUNNING');
  });
});

describe('the sweeper with two instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    a = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_SWEEP_INTERVAL_MS: '50' } });
    b = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_SWEEP_INTERVAL_MS: '50' } });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('moves each expired execution once (one winner, one event)', async () => {
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) => createExecution(i % 2 ? a : b, { timeoutSeconds: 1 })),
    );
    await new Promise((r) => setTimeout(r, 2500));
    for (const { id } of ids) {
      const e = ok(await a.gql<State>(STATE, { id })).execution;
      expect(e.status).toBe('TIMED_OUT');
      expect(e.events).toHaveLength(1);
      expect(e.lastSequence).toBe(1);
    }
  });

  it('finds due executions through an index, not a scan', async () => {
    if (a.database.notifier.kind !== 'postgres') throw new Error('expected PostgreSQL');
    // One connection for the setting and the plans: the pool would hand `explain` another one (webhook polling and
    // other background work use the pool too).
    const [deadline, heartbeat] = await a.database.notifier.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`; // small tables: make the planner show whether an index can serve at all
      const explain = async (query: string) =>
        (await tx.unsafe(`explain ${query}`)).map((r) => Object.values(r).join('')).join('\n');
      return [
        await explain(
          `select id from executions where deadline_at <= now() and status in ('PENDING','RUNNING','WAITING_FOR_INPUT','INTERRUPTED') order by deadline_at limit 200`,
        ),
        await explain(
          `select id from executions where heartbeat_deadline_at <= now() and status in ('PENDING','RUNNING','WAITING_FOR_INPUT') order by heartbeat_deadline_at limit 200`,
        ),
      ];
    });
    expect(deadline).toContain('executions_deadline_idx');
    expect(heartbeat).toContain('executions_heartbeat_idx');
  });
});
