import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf,
  createExecution,
  DB_KINDS,
  ok,
  record,
  startTestServer,
  type TestServer,
  UPDATE_STATUS,
} from '../support/harness.js';

type Update = {
  updateExecutionStatus: {
    success: boolean;
    previousStatus: string;
    currentStatus: string;
    message: string;
    execution: {
      status: string;
      error: { code: string; message: string; details: unknown } | null;
      completedAt: string;
    };
  };
};

describe.each(DB_KINDS)('updateExecutionStatus on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const update = (id: string, status: string, errorInfo?: unknown) =>
    s.gql<Update>(UPDATE_STATUS, { id, status, errorInfo });

  it('cancels a running execution and says what it was', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const r = ok(await update(id, 'CANCELLED')).updateExecutionStatus;
    expect(r).toMatchObject({ success: true, previousStatus: 'RUNNING', currentStatus: 'CANCELLED' });
    expect(r.execution.status).toBe('CANCELLED');
    expect(r.execution.completedAt).not.toBeNull();
  });

  it('treats the same terminal status again as an idempotent success', async () => {
    const { id } = await createExecution(s);
    ok(await update(id, 'CANCELLED'));
    const again = ok(await update(id, 'CANCELLED')).updateExecutionStatus;
    expect(again).toMatchObject({ success: true, previousStatus: 'CANCELLED', currentStatus: 'CANCELLED' });
  });

  it('refuses any other change of a terminal status with INVALID_STATUS_TRANSITION', async () => {
    const { id } = await createExecution(s);
    ok(await update(id, 'COMPLETED'));
    expect(codeOf(await update(id, 'CANCELLED'))).toBe('INVALID_STATUS_TRANSITION');
    expect(codeOf(await update(id, 'FAILED'))).toBe('INVALID_STATUS_TRANSITION');
  });

  it('marks failed with the default error, or with error_info', async () => {
    const a = await createExecution(s);
    const r1 = ok(await update(a.id, 'FAILED')).updateExecutionStatus;
    expect(r1.execution.error).toEqual({
      code: 'MARKED_FAILED',
      message: 'Marked failed by an administrator',
      details: null,
    });
    const b = await createExecution(s);
    const info = { code: 'STUCK', message: 'worker lost after restart', ticket: 42 };
    const r2 = ok(await update(b.id, 'FAILED', info)).updateExecutionStatus;
    expect(r2.execution.error).toEqual({ code: 'STUCK', message: 'worker lost after restart', details: info });
  });

  it('refuses an error_info that is not an object, or whose code is not a string', async () => {
    const { id } = await createExecution(s);
    expect(codeOf(await update(id, 'FAILED', 'oops'))).toBe('VALIDATION_FAILED');
    expect(codeOf(await update(id, 'FAILED', { code: 5 }))).toBe('VALIDATION_FAILED');
  });

  it('answers EXECUTION_NOT_FOUND for an unknown id', async () => {
    expect(codeOf(await update('01900000-0000-7000-8000-000000000000', 'CANCELLED'))).toBe('EXECUTION_NOT_FOUND');
  });

  it('gives 20 concurrent terminal updates exactly one winner and one STATUS_CHANGED event', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const targets = Array.from({ length: 20 }, (_, i) => ['CANCELLED', 'FAILED', 'COMPLETED'][i % 3] as string);
    const results = await Promise.all(targets.map((t) => update(id, t)));
    const winners = results.filter((r) => r.data?.updateExecutionStatus?.previousStatus === 'RUNNING');
    expect(winners).toHaveLength(1);
    const final = winners[0]?.data?.updateExecutionStatus.currentStatus;
    for (const [i, r] of results.entries()) {
      if (r === winners[0]) continue;
      if (targets[i] === final)
        expect(r.data?.updateExecutionStatus).toMatchObject({ success: true, previousStatus: final });
      else expect(codeOf(r)).toBe('INVALID_STATUS_TRANSITION');
    }
    const events = ok(
      await s.gql<{ execution: { events: { type: string; to: string }[] } }>(
        `query($id: ID!) { execution(id: $id) { events { type ... on StatusChangedEvent { to } } } }`,
        { id },
      ),
    ).execution.events;
    expect(events.filter((e) => e.type === 'STATUS_CHANGED' && e.to === final)).toHaveLength(1);
    expect(events).toHaveLength(2);
  });

  it('lets a worker learn of a cancellation from its next report', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    ok(await update(id, 'CANCELLED'));
    const res = await record(s, id, [{ progress: { percentage: 50 } }]);
    expect(codeOf(res)).toBe('INVALID_STATUS_TRANSITION');
    expect(res.errors?.[0]?.message).toContain('CANCELLED');
  });
});
