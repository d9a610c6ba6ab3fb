import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const DETAIL = `query($id: ID!) { execution(id: $id) {
  status lastSequence startedAt completedAt durationMs output error { code message step }
  progress { step percentage }
  steps { id name type status startedAt completedAt durationMs outputs rowCounts skipped error { code } }
  stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
  events(after: 0) { sequence type occurredAt
    ... on StatusChangedEvent { from to error { code } }
    ... on ProgressEvent { step percentage }
    ... on StepEvent { stepId stepStatus: status stepType }
    ... on MessageEvent { messageId adapter status }
  }
} }`;

type Detail = { execution: Record<string, unknown> & { events: Record<string, unknown>[] } };

describe.each(DB_KINDS)('recordExecutionEvents on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const detail = async (id: string) => ok(await s.gql<Detail>(DETAIL, { id })).execution;

  it('appends a batch with gap-free sequences and applies it to the execution', async () => {
    const { id } = await createExecution(s);
    const at = '2026-01-02T03:04:05.000Z';
    const res = ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { progress: { step: 'extract', percentage: 40 } },
        { step: { stepId: 's1', name: 'Extract', type: 'sql', status: 'RUNNING' }, occurredAt: at },
        {
          step: { stepId: 's1', status: 'COMPLETED', outputs: { rows: 3 }, rowCounts: { out: 3 } },
          occurredAt: '2026-01-02T03:04:06.500Z',
        },
      ]),
    );
    expect(res.recordExecutionEvents.events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    const e = await detail(id);
    expect(e).toMatchObject({
      status: 'RUNNING',
      lastSequence: 4,
      progress: { step: 'extract', percentage: 40 },
      steps: [
        {
          id: 's1',
          name: 'Extract',
          type: 'sql',
          status: 'COMPLETED',
          startedAt: at,
          completedAt: '2026-01-02T03:04:06.500Z',
          durationMs: 1500,
          outputs: { rows: 3 },
          rowCounts: { out: 3 },
          skipped: false,
        },
      ],
    });
    expect(e.startedAt).not.toBeNull();
    expect(e.events.map((x) => x.type)).toEqual(['STATUS_CHANGED', 'PROGRESS', 'STEP', 'STEP']);
    expect(e.events[0]).toMatchObject({ from: 'PENDING', to: 'RUNNING' });
    expect(e.events[2]).toMatchObject({ stepId: 's1', stepStatus: 'RUNNING', stepType: 'sql', occurredAt: at });
  });

  it('keeps output and error from the terminal status change and sets completedAt and durationMs', async () => {
    const { id } = await createExecution(s);
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        {
          statusChanged: {
            to: 'FAILED',
            error: { code: 'E_LOAD', message: 'load failed', step: 'load' },
            output: { partial: true },
          },
        },
      ]),
    );
    const e = await detail(id);
    expect(e).toMatchObject({
      status: 'FAILED',
      output: { partial: true },
      error: { code: 'E_LOAD', message: 'load failed', step: 'load' },
    });
    expect(e.completedAt).not.toBeNull();
    expect(typeof e.durationMs).toBe('number');
    expect(e.events[1]).toMatchObject({ from: 'RUNNING', to: 'FAILED', error: { code: 'E_LOAD' } });
  });

  it('counts message lineage into the stats in the same transaction', async () => {
    const { id } = await createExecution(s);
    const msg = (messageId: string, status: string) => ({ message: { messageId, status, adapter: 'email' } });
    ok(
      await record(s, id, [
        msg('a', 'INITIATED'),
        msg('b', 'INITIATED'),
        msg('c', 'INITIATED'),
        msg('a', 'PROCESSING'),
        msg('a', 'COMPLETED'),
        msg('b', 'FAILED'),
        msg('d', 'COMPLETED'), // never initiated: counts in total too
      ]),
    );
    // repeats change nothing: a terminal report again, an INITIATED again
    const res = ok(await record(s, id, [msg('a', 'COMPLETED'), msg('b', 'COMPLETED'), msg('c', 'INITIATED')]));
    expect(res.recordExecutionEvents.execution.stats).toEqual({
      totalMessages: 4,
      completedMessages: 2,
      failedMessages: 1,
      inProgressMessages: 1,
      successRate: 2 / 3,
    });
    expect(res.recordExecutionEvents.execution.lastSequence).toBe(10); // every report is still logged
  });

  it('treats an empty batch as a heartbeat that writes no event', async () => {
    const { id } = await createExecution(s);
    const res = ok(await record(s, id, []));
    expect(res.recordExecutionEvents.events).toEqual([]);
    expect(res.recordExecutionEvents.execution.lastSequence).toBe(0);
  });

  it('writes nothing of a batch that an invalid value fails (all or nothing)', async () => {
    const { id } = await createExecution(s);
    const res = await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 140 } }]);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    const issues = res.errors?.[0]?.extensions?.issues as { loc: unknown[] }[];
    expect(issues[0]?.loc).toEqual(['events', 1, 'progress', 'percentage']);
    const e = await detail(id);
    expect(e).toMatchObject({ status: 'PENDING', lastSequence: 0, events: [] });
  });

  it.each<[string, unknown[]]>([
    ['no kind set', [{}]],
    ['two kinds set', [{ progress: { percentage: 1 }, message: { messageId: 'm', status: 'INITIATED' } }]],
    ['an occurredAt without a zone', [{ progress: { percentage: 1 }, occurredAt: '2026-01-01 10:00' }]],
  ])('refuses an event with %s', async (_why, events) => {
    const { id } = await createExecution(s);
    const res = await record(s, id, events);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect((await detail(id)).lastSequence).toBe(0);
  });

  it('refuses a batch for a terminal execution with INVALID_STATUS_TRANSITION and writes nothing', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
    for (const events of [[], [{ progress: { percentage: 5 } }], [{ statusChanged: { to: 'COMPLETED' } }]]) {
      const res = await record(s, id, events);
      expect(codeOf(res)).toBe('INVALID_STATUS_TRANSITION');
    }
    expect((await detail(id)).lastSequence).toBe(1);
  });

  it('refuses a batch that goes on after its own terminal status, as a whole', async () => {
    const { id } = await createExecution(s);
    const res = await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }, { progress: { percentage: 100 } }]);
    expect(codeOf(res)).toBe('INVALID_STATUS_TRANSITION');
    expect(await detail(id)).toMatchObject({ status: 'PENDING', lastSequence: 0 });
  });

  it.each(['PENDING', 'INTERRUPTED'])('refuses a worker moving an execution to %s', async (to) => {
    const { id } = await createExecution(s);
    const res = await record(s, id, [{ statusChanged: { to } }]);
    expect(codeOf(res)).toBe('INVALID_STATUS_TRANSITION');
  });

  it('moves between RUNNING and WAITING_FOR_INPUT and records no event for a status it already has', async () => {
    const { id } = await createExecution(s);
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { statusChanged: { to: 'WAITING_FOR_INPUT' } },
        { statusChanged: { to: 'RUNNING' } },
        { statusChanged: { to: 'RUNNING' } },
      ]),
    );
    const e = await detail(id);
    expect(e.events.map((x) => `${x.from}>${x.to}`)).toEqual([
      'PENDING>RUNNING',
      'RUNNING>WAITING_FOR_INPUT',
      'WAITING_FOR_INPUT>RUNNING',
    ]);
  });

  it('answers EXECUTION_NOT_FOUND for an unknown or malformed id', async () => {
    expect(codeOf(await record(s, '01900000-0000-7000-8000-000000000000', []))).toBe('EXECUTION_NOT_FOUND');
    expect(codeOf(await record(s, 'nope', []))).toBe('EXECUTION_NOT_FOUND');
  });

  it('keeps sequences gap-free under concurrent batches', async () => {
    const { id } = await createExecution(s);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        record(s, id, [{ progress: { percentage: i } }, { progress: { percentage: i } }]),
      ),
    );
    const e = await detail(id);
    expect(e.lastSequence).toBe(40);
    expect(e.events.map((x) => x.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('gives each of many concurrent requests its own outcome when they are written together', async () => {
    const open = await Promise.all(Array.from({ length: 12 }, () => createExecution(s)));
    const closed = await createExecution(s);
    ok(await record(s, closed.id, [{ statusChanged: { to: 'CANCELLED' } }]));
    const calls = [
      ...open.flatMap(({ id }) => [
        record(s, id, [{ message: { messageId: 'm', status: 'INITIATED' } }]),
        record(s, id, [{ message: { messageId: 'm', status: 'COMPLETED' } }, { progress: { percentage: 10 } }]),
      ]),
      record(s, closed.id, [{ progress: { percentage: 1 } }]),
      record(s, '01900000-0000-7000-8000-000000000000', [{ progress: { percentage: 1 } }]),
    ];
    const results = await Promise.all(calls);
    expect(codeOf(results.at(-2) as never)).toBe('INVALID_STATUS_TRANSITION');
    expect(codeOf(results.at(-1) as never)).toBe('EXECUTION_NOT_FOUND');
    for (const r of results.slice(0, -2)) expect(r.errors).toBeUndefined();
    for (const { id } of open) {
      const e = await detail(id);
      expect(e.lastSequence).toBe(3);
      expect(e.events.map((x) => x.sequence)).toEqual([1, 2, 3]);
      expect(e.stats).toEqual({
        totalMessages: 1,
        completedMessages: 1,
        failedMessages: 0,
        inProgressMessages: 0,
        successRate: 1,
      });
    }
    expect((await detail(closed.id)).lastSequence).toBe(1);
  });
});
