import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, subscribe, TRANSPORTS, take } from '../support/subscribe.js';

const EVENTS = `subscription($id: ID!, $after: Int, $timeout: Float) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout) {
    sequence type executionId ... on StatusChangedEvent { from to } ... on ProgressEvent { percentage }
  }
}`;
type Ev = { executionEvents: { sequence: number; type: string; to?: string; percentage?: number } };
const seqs = (rs: { data?: Ev | null }[]) => rs.map((r) => r.data?.executionEvents.sequence);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const UPDATED = `subscription($filter: ExecutionFilter) {
  executionUpdated(filter: $filter) { id status workflowId lastSequence }
}`;
type Up = { executionUpdated: { id: string; status: string; workflowId: string; lastSequence: number } };

describe.each(DB_KINDS)('subscriptions on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('replays stored events, then streams live ones, and completes after the terminal event', async () => {
      const { id } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 10 } }]));
      const sub = subscribe<Ev>(s.url, transport, EVENTS, { id });
      const first = await take(sub, 2);
      expect(seqs(first)).toEqual([1, 2]);
      ok(await record(s, id, [{ progress: { percentage: 50 } }]));
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const rest = await collect(sub);
      expect(seqs(rest)).toEqual([3, 4]);
      expect(rest[1]?.data?.executionEvents).toMatchObject({ type: 'STATUS_CHANGED', to: 'COMPLETED' });
      await sub.close();
    });

    it('resumes after a given sequence without repeating it', async () => {
      const { id } = await createExecution(s);
      ok(
        await record(
          s,
          id,
          [1, 2, 3, 4].map((p) => ({ progress: { percentage: p } })),
        ),
      );
      ok(await record(s, id, [{ statusChanged: { to: 'CANCELLED' } }]));
      const all = await collect(subscribe<Ev>(s.url, transport, EVENTS, { id, after: 2 }));
      expect(seqs(all)).toEqual([3, 4, 5]);
    });

    it('completes at once after the replay when the execution is already terminal', async () => {
      const { id } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const started = Date.now();
      const none = await collect(subscribe<Ev>(s.url, transport, EVENTS, { id, after: 1, timeout: 30 }));
      expect(none).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('completes at the timeout when nothing terminal happens', async () => {
      const { id } = await createExecution(s);
      const started = Date.now();
      const none = await collect(subscribe<Ev>(s.url, transport, EVENTS, { id, timeout: 1 }));
      expect(none).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it('sees every event exactly once when events are written while it connects', async () => {
      const { id } = await createExecution(s);
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing && written < 200) {
          ok(await record(s, id, [{ progress: { percentage: written % 100 } }]));
          written++;
        }
      })();
      await sleep(30);
      const sub = subscribe<Ev>(s.url, transport, EVENTS, { id, timeout: 30 });
      const early = await take(sub, 5);
      writing = false;
      await writer;
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const rest = await collect(sub);
      const all = seqs([...early, ...rest]);
      expect(all).toEqual(Array.from({ length: written + 1 }, (_, i) => i + 1));
    });

    it('answers EXECUTION_NOT_FOUND for an unknown execution', async () => {
      const results = await collect(
        subscribe<Ev>(s.url, transport, EVENTS, { id: '01900000-0000-7000-8000-000000000000' }),
      );
      const errors = results.flatMap((r) => r.errors ?? []);
      expect(errors[0]?.extensions?.code).toBe('EXECUTION_NOT_FOUND');
    });

    it('emits executionUpdated for matching changes only', async () => {
      const workflowId = `wf-upd-${transport}`;
      const sub = subscribe<Up>(s.url, transport, UPDATED, { filter: { workflowId } });
      await sleep(300);
      await createExecution(s, { workflowId: 'wf-elsewhere' });
      const { id } = await createExecution(s, { workflowId });
      const created = await take(sub, 1);
      expect(created[0]?.data?.executionUpdated).toMatchObject({ id, status: 'PENDING', workflowId });
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
      const running = await take(sub, 1);
      expect(running[0]?.data?.executionUpdated).toMatchObject({ id, status: 'RUNNING', lastSequence: 1 });
      await sub.close();
    });
  });

  it('queries and mutations also work over graphql-sse', async () => {
    for (const transport of ['graphql-sse-distinct', 'graphql-sse-single'] as const) {
      const created = await collect(
        subscribe<{ createExecution: { id: string } }>(
          s.url,
          transport,
          'mutation { createExecution(input: { workflowId: "over-sse" }) { id } }',
        ),
      );
      const id = created[0]?.data?.createExecution.id;
      expect(id).toBeTruthy();
      const read = await collect(
        subscribe<{ execution: { workflowId: string } }>(
          s.url,
          transport,
          'query($id: ID!) { execution(id: $id) { workflowId } }',
          {
            id,
          },
        ),
      );
      expect(read[0]?.data?.execution.workflowId).toBe('over-sse');
    }
  });

  it('lets go of a subscription when the client disconnects', async () => {
    const { id } = await createExecution(s);
    const sub = subscribe<Ev>(s.url, 'yoga-sse', EVENTS, { id, timeout: 60 });
    ok(await record(s, id, [{ progress: { percentage: 1 } }]));
    await take(sub, 1);
    expect(s.feed.openListeners.executions).toBeGreaterThan(0);
    await sub.close();
    await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(0);
  });
});
