import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, executionIn, expectError, locsOf, recordViaRest, rest, UNKNOWN_ID } from '../support/rest.js';

interface Reply {
  success: boolean;
  execution_id: string;
  previous_status: string;
  current_status: string;
  message: string;
}

const SEED_WORDS = ['running', 'completed', 'failed', 'cancelled', 'interrupted'];

describe.each(DB_KINDS)('seed 003 PATCH /api/v1/executions/{execution_id} on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '100' } });
  });
  afterAll(() => s.close());
  const patch = (id: string, body: unknown, headers?: Record<string, string>) =>
    rest<Reply>(s, 'PATCH', `/api/v1/executions/${id}`, { json: body, headers });
  const unified = async (id: string) =>
    (
      await s.gql<{ execution: { status: string; error: unknown } }>(
        `query($id: ID!) { execution(id: $id) { status error { code message details } } }`,
        { id },
      )
    ).data?.execution;

  it('cancels a running execution with every documented field in the seed vocabulary', async () => {
    const id = await executionIn(s, 'RUNNING');
    const r = await patch(id, { status: 'cancelled' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual([
      'current_status',
      'execution_id',
      'message',
      'previous_status',
      'success',
    ]);
    expect(r.body).toEqual({
      success: true,
      execution_id: id,
      previous_status: 'running',
      current_status: 'cancelled',
      message: expect.any(String),
    });
    expect((await unified(id))?.status).toBe('CANCELLED');
  });

  it.each([
    ['PENDING', 'running'],
    ['RUNNING', 'running'],
    ['WAITING_FOR_INPUT', 'running'],
    ['INTERRUPTED', 'interrupted'],
  ])('says previous status %s as "%s"', async (from, word) => {
    const id = await executionIn(s, from);
    const r = await patch(id, { status: 'completed' });
    expect(r.body).toMatchObject({ success: true, previous_status: word, current_status: 'completed' });
    expect(SEED_WORDS).toContain(r.body.previous_status);
  });

  it('marks failed with the default error, or with error_info', async () => {
    const a = await executionIn(s, 'RUNNING');
    expect((await patch(a, { status: 'failed' })).body).toMatchObject({ current_status: 'failed' });
    expect((await unified(a))?.error).toEqual({
      code: 'MARKED_FAILED',
      message: 'Marked failed by an administrator',
      details: null,
    });
    const b = await executionIn(s, 'RUNNING');
    const info = { code: 'STUCK', message: 'worker lost after restart', ticket: 42 };
    expect((await patch(b, { status: 'failed', error_info: info })).status).toBe(200);
    expect((await unified(b))?.error).toEqual({ code: 'STUCK', message: 'worker lost after restart', details: info });
  });

  it('treats the same terminal status again as an idempotent success', async () => {
    const id = await executionIn(s, 'RUNNING');
    await patch(id, { status: 'cancelled' });
    const again = await patch(id, { status: 'cancelled' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ success: true, previous_status: 'cancelled', current_status: 'cancelled' });
  });

  it.each([
    ['COMPLETED', 'cancelled'],
    ['CANCELLED', 'failed'],
    ['FAILED', 'completed'],
    ['TIMED_OUT', 'cancelled'],
  ])('answers 400 INVALID_STATUS_TRANSITION for a %s execution set to %s', async (from, to) => {
    const id = await executionIn(s, from);
    const before = await unified(id);
    expectError(await patch(id, { status: to }), 400, 'INVALID_STATUS_TRANSITION');
    expect(await unified(id)).toEqual(before);
  });

  it('answers 404 EXECUTION_NOT_FOUND for an unknown id and for an id that is not a UUID', async () => {
    expectError(await patch(UNKNOWN_ID, { status: 'cancelled' }), 404, 'EXECUTION_NOT_FOUND');
    expectError(await patch('exec_abc123', { status: 'cancelled' }), 404, 'EXECUTION_NOT_FOUND');
  });

  it.each([
    [{ status: 'running' }, 'body.status'],
    [{ status: 'interrupted' }, 'body.status'],
    [{ status: 'CANCELLED' }, 'body.status'],
    [{ status: 'timed_out' }, 'body.status'],
    [{}, 'body.status'],
    [{ status: 5 }, 'body.status'],
    [{ status: 'failed', error_info: 'oops' }, 'body.error_info'],
    [{ status: 'failed', error_info: { code: 5 } }, 'body.error_info.code'],
    [[], 'body'],
  ])('answers 422 for %j and writes nothing', async (body, loc) => {
    const id = await executionIn(s, 'RUNNING');
    const r = await patch(id, body);
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual([loc]);
    expect((await unified(id))?.status).toBe('RUNNING');
  });

  it('lets a worker learn of the cancellation from its next report', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    await patch(id, { status: 'cancelled' });
    const r = await rest(s, 'POST', `/api/v1/executions/${id}/events`, { json: { events: [] } });
    expectError(r, 400, 'INVALID_STATUS_TRANSITION');
  });

  it('echoes X-Correlation-Id', async () => {
    const id = await executionIn(s, 'RUNNING');
    const r = await patch(id, { status: 'cancelled' }, { 'x-correlation-id': 'ops-7' });
    expect(r.headers.get('x-correlation-id')).toBe('ops-7');
  });
});
