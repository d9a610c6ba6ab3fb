import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, type TestServer, UPDATE_STATUS } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { recordViaRest, rest } from '../support/rest.js';
import { collectSse } from '../support/sse.js';
import { collect, subscribe } from '../support/subscribe.js';
import { createWebhook, startHookServer } from '../webhooks/support.js';

// API.md §1 "Time and open steps", over real HTTP on both databases.

const STATE = `query($id: ID!) { execution(id: $id) {
  status createdAt startedAt completedAt durationMs lastSequence
  steps { id status startedAt completedAt durationMs }
  events { sequence type occurredAt ... on StatusChangedEvent { from to } ... on StepEvent { stepId status } } } }`;
interface Step {
  id: string;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
}
interface Event {
  sequence: number;
  type: string;
  occurredAt: string;
  from?: string;
  to?: string;
  stepId?: string;
  status?: string;
}
interface State {
  status: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  lastSequence: number;
  steps: Step[];
  events: Event[];
}

const WAIT = `query($id: ID!, $t: Float) { waitForExecution(id: $id, timeout: $t) {
  completed execution { status completedAt lastSequence steps { id status completedAt } } } }`;
const EVENTS = `subscription($id: ID!) { executionEvents(executionId: $id, after: 0, timeout: 30) {
  sequence type ... on StatusChangedEvent { to } ... on StepEvent { stepId status } } }`;

const shift = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

describe.each(DB_KINDS)('time and open steps on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '200' } });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });
  const state = async (id: string) => ok(await s.gql<{ execution: State }>(STATE, { id })).execution;

  /** Runs `fn` with the server's clock `seconds` ahead: time passes for the server, not for the test. */
  async function later<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
    const real = s.domain.now;
    s.domain.now = () => new Date(Date.now() + seconds * 1000);
    try {
      return await fn();
    } finally {
      s.domain.now = real;
    }
  }

  describe('startedAt and completedAt', () => {
    it('come from occurredAt: RUNNING and COMPLETED reported 30 s apart give durationMs 30000', async () => {
      const { id, createdAt } = await createExecution(s);
      await later(60, async () => {
        ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' }, occurredAt: shift(createdAt, 10) }]));
        ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' }, occurredAt: shift(createdAt, 40) }]));
      });
      const e = await state(id);
      expect(e).toMatchObject({
        startedAt: shift(createdAt, 10),
        completedAt: shift(createdAt, 40),
        durationMs: 30_000,
      });
    });

    it('are never before createdAt: a worker clock behind the server starts the execution at createdAt', async () => {
      const { id, createdAt } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' }, occurredAt: shift(createdAt, -3600) }]));
      ok(await record(s, id, [{ statusChanged: { to: 'FAILED' }, occurredAt: shift(createdAt, -3000) }]));
      const e = await state(id);
      expect(e.startedAt).toBe(createdAt);
      expect(e.completedAt).toBe(createdAt);
      expect(e.durationMs).toBe(0);
    });

    it('are never after the server time: a future occurredAt is clamped', async () => {
      const { id, createdAt } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' }, occurredAt: shift(createdAt, 86_400) }]));
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' }, occurredAt: shift(createdAt, 2 * 86_400) }]));
      const answered = Date.now();
      const e = await state(id);
      const started = Date.parse(e.startedAt ?? '');
      const completed = Date.parse(e.completedAt ?? '');
      expect(started).toBeGreaterThanOrEqual(Date.parse(createdAt));
      expect(completed).toBeGreaterThanOrEqual(started);
      expect(completed).toBeLessThanOrEqual(answered);
      expect(e.durationMs).toBe(completed - started);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
    });

    it("use the server's time for a client update, even with the worker's clock ahead", async () => {
      const { id, createdAt } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' }, occurredAt: shift(createdAt, 5) }]));
      const before = Date.now();
      ok(await s.gql(UPDATE_STATUS, { id, status: 'CANCELLED' }));
      const e = await state(id);
      const completed = Date.parse(e.completedAt ?? '');
      expect(completed).toBeGreaterThanOrEqual(before);
      expect(completed).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(e.startedAt ?? '')).toBeLessThanOrEqual(completed);
      expect(e.durationMs).toBe(completed - Date.parse(e.startedAt ?? ''));
    });
  });

  describe('steps still open when the execution ends', () => {
    /** RUNNING, with step `a` running, `b` completed and `c` pending (sequences 1–4). */
    async function withSteps(input: Record<string, unknown> = {}) {
      const { id } = await createExecution(s, input);
      ok(
        await record(s, id, [
          { statusChanged: { to: 'RUNNING' } },
          { step: { stepId: 'a', name: 'extract', status: 'RUNNING' } },
          { step: { stepId: 'b', status: 'COMPLETED' } },
          { step: { stepId: 'c', status: 'PENDING' } },
        ]),
      );
      return id;
    }

    async function expectClosed(id: string, terminal: string) {
      const e = await state(id);
      expect(e.status).toBe(terminal);
      expect(e.completedAt).not.toBeNull();
      expect(e.steps.map((st) => [st.id, st.status])).toEqual([
        ['a', 'CANCELLED'],
        ['b', 'COMPLETED'],
        ['c', 'CANCELLED'],
      ]);
      expect(e.steps[0]?.completedAt).toBe(e.completedAt);
      expect(e.steps[2]).toMatchObject({ completedAt: e.completedAt, startedAt: null, durationMs: null });
      expect(e.steps[0]?.durationMs).toBe(Date.parse(e.completedAt ?? '') - Date.parse(e.steps[0]?.startedAt ?? ''));
      // Gap-free, the closing STEP events right before the terminal event, which is the last one.
      expect(e.events.map((ev) => ev.sequence)).toEqual(e.events.map((_, i) => i + 1));
      expect(e.lastSequence).toBe(e.events.length);
      expect(e.events.slice(4).map((ev) => [ev.type, ev.stepId ?? ev.to, ev.status ?? null])).toEqual([
        ['STEP', 'a', 'CANCELLED'],
        ['STEP', 'c', 'CANCELLED'],
        ['STATUS_CHANGED', terminal, null],
      ]);
      expect(e.events[4]?.occurredAt).toBe(e.completedAt);
      return e;
    }

    it('are closed when a worker batch ends it (GraphQL)', async () => {
      const id = await withSteps();
      ok(await record(s, id, [{ statusChanged: { to: 'FAILED', error: { code: 'E', message: 'boom' } } }]));
      await expectClosed(id, 'FAILED');
    });

    it('are closed when a worker batch ends it (REST ingest), spelled CANCELLED in the REST shape', async () => {
      const id = await withSteps();
      const r = await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
      expect(r.events.map((ev) => ev.sequence)).toEqual([5, 6, 7]);
      const body = r as unknown as { execution: { steps: { id: string; status: string }[] } };
      expect(body.execution.steps.map((st) => st.status)).toEqual(['CANCELLED', 'COMPLETED', 'CANCELLED']);
      await expectClosed(id, 'COMPLETED');
    });

    it('are closed when a client cancels (updateExecutionStatus)', async () => {
      const id = await withSteps();
      ok(await s.gql(UPDATE_STATUS, { id, status: 'CANCELLED' }));
      await expectClosed(id, 'CANCELLED');
    });

    it('are closed when a client marks it failed (seed 003 PATCH)', async () => {
      const id = await withSteps();
      const r = await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'failed' } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      await expectClosed(id, 'FAILED');
    });

    it('are closed when the sweeper times it out', async () => {
      const id = await withSteps({ timeoutSeconds: 1 });
      const waited = ok(
        await s.gql<{ waitForExecution: { completed: boolean } }>(WAIT, { id, t: 15 }),
      ).waitForExecution;
      expect(waited.completed).toBe(true);
      await expectClosed(id, 'TIMED_OUT');
    });

    it('are spelled in the REST vocabularies: seed 001 nodes, seed 002 `cancelled`, seed 004 cancelledSteps', async () => {
      const id = await withSteps();
      ok(await s.gql(UPDATE_STATUS, { id, status: 'CANCELLED' }));
      const e = await state(id);

      const flow = await rest<{ metrics: Record<string, number> }>(
        s,
        'GET',
        `/api/v1/executions/${id}?include=metrics`,
      );
      expect(flow.body.metrics).toMatchObject({ totalSteps: 3, completedSteps: 1, cancelledSteps: 2 });

      const wf = await rest<{ workflowTrace: { nodeTraces: Record<string, unknown>[] } }>(
        s,
        'GET',
        `/workflows/executions/${id}/wait`,
      );
      expect(wf.body.workflowTrace.nodeTraces).toMatchObject([
        { nodeId: 'a', skipped: false, error: null, durationMs: e.steps[0]?.durationMs },
        { nodeId: 'b', skipped: false },
        { nodeId: 'c', skipped: false, error: null, durationMs: null },
      ]);

      const res = await fetch(`${s.url}/api/v1/executions/${id}/events`, { headers: { accept: 'text/event-stream' } });
      const frames = (await collectSse(res)).filter((m) => m.event === 'step' || m.event === 'status');
      expect(
        frames.slice(-3).map((m) => [m.event, JSON.parse(m.data).step_id ?? null, JSON.parse(m.data).status]),
      ).toEqual([
        ['step', 'a', 'cancelled'],
        ['step', 'c', 'cancelled'],
        ['status', null, 'cancelled'],
      ]);
    });

    it('reach streams, waits and webhooks consistently: closing events before the terminal one', async () => {
      await createWebhook(s, { url: rx.url, events: ['execution.terminal'], filter: { workflowId: 'wf-closing' } });
      const id = await withSteps({ workflowId: 'wf-closing' });
      const sub = subscribe<{ executionEvents: Event }>(s.url, 'graphql-sse-distinct', EVENTS, { id });
      const wait = s.gql<{
        waitForExecution: { completed: boolean; execution: { status: string; completedAt: string; steps: Step[] } };
      }>(WAIT, { id, t: 20 });
      ok(await s.gql(UPDATE_STATUS, { id, status: 'CANCELLED' }));

      const streamed = (await collect(sub)).map((r) => r.data?.executionEvents);
      expect(streamed.map((ev) => ev?.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(streamed.slice(4).map((ev) => [ev?.type, ev?.stepId ?? ev?.to])).toEqual([
        ['STEP', 'a'],
        ['STEP', 'c'],
        ['STATUS_CHANGED', 'CANCELLED'],
      ]);

      const waited = ok(await wait).waitForExecution;
      expect(waited.completed).toBe(true);
      expect(waited.execution.steps.map((st) => st.status)).toEqual(['CANCELLED', 'COMPLETED', 'CANCELLED']);

      const [hook] = await rx.waitFor(1, (r) => r.body.data.execution.id === id, 10_000);
      const sent = hook?.body.data.execution as { lastSequence: number; steps: { status: string }[] };
      expect(sent.lastSequence).toBe(7);
      expect(sent.steps.map((st) => st.status)).toEqual(['CANCELLED', 'COMPLETED', 'CANCELLED']);
    });
  });
});
