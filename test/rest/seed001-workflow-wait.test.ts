import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import {
  createViaRest,
  executionIn,
  expectError,
  ISO_UTC,
  locsOf,
  recordViaRest,
  rest,
  sleep,
  UNKNOWN_ID,
} from '../support/rest.js';

type Body = Record<string, unknown> & { workflowTrace: Record<string, unknown> & { nodeTraces: Body[] } };

/** Every field of seed 001's response with the type the seed gives it ('string|null': nullable string). */
const FIELDS: Record<string, string> = {
  id: 'string',
  organizationId: 'string',
  environment: 'string',
  workflowId: 'string',
  eventId: 'string',
  triggerType: 'string',
  entityType: 'string|null',
  entityId: 'string|null',
  eventType: 'string|null',
  status: 'string',
  error: 'string|null',
  alertIds: 'array',
  durationMs: 'number|null',
  initiatedBy: 'string|null',
  createdAt: 'string',
  producedRecords: 'array',
  producedFiles: 'array',
  completedAt: 'string|null',
  inputs: 'object',
  resolvedVariables: 'object',
  workflowTrace: 'object',
  warnings: 'array',
};
const NODE_TRACE_FIELDS = ['columns', 'durationMs', 'error', 'nodeId', 'outputs', 'rowCounts', 'skipped', 'type'];

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function expectSeedShape(body: Body): void {
  expect(Object.keys(body).sort()).toEqual(Object.keys(FIELDS).sort());
  for (const [field, type] of Object.entries(FIELDS)) {
    expect(type.split('|'), `${field} is ${JSON.stringify(body[field])}`).toContain(kindOf(body[field]));
  }
  if (body.durationMs !== null) expect(Number.isInteger(body.durationMs)).toBe(true);
  expect(body.createdAt).toMatch(ISO_UTC);
  if (body.completedAt !== null) expect(body.completedAt).toMatch(ISO_UTC);
  expect(['test', 'live']).toContain(body.environment);
  expect(Object.keys(body.workflowTrace).sort()).toEqual(['durationMs', 'error', 'nodeTraces', 'workflowSnapshot']);
  for (const n of body.workflowTrace.nodeTraces) expect(Object.keys(n).sort()).toEqual(NODE_TRACE_FIELDS);
}

describe.each(DB_KINDS)('seed 001 GET /workflows/executions/{id}/wait on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '100' } });
  });
  afterAll(() => s.close());
  const wait = (id: string, query = 'timeoutMs=5000', headers?: Record<string, string>) =>
    rest<Body>(s, 'GET', `/workflows/executions/${id}/wait?${query}`, { headers });

  it('answers a terminal execution in the seed shape, from trigger, inputs, steps and error', async () => {
    const snapshot = { nodes: [{ id: 'extract' }, { id: 'load' }], edges: [{ from: 'extract', to: 'load' }] };
    const { id } = await createViaRest(s, {
      workflowId: 'nightly-etl',
      trigger: { type: 'event', eventId: 'evt_1', eventType: 'order.created', entityType: 'order', entityId: 'o_9' },
      initiatedBy: 'user_7',
      inputs: { date: '2026-01-31' },
      resolvedVariables: { region: 'eu' },
      metadata: { workflowSnapshot: snapshot },
    });
    await recordViaRest(s, id, [
      { statusChanged: { to: 'RUNNING' } },
      { step: { stepId: 'extract', type: 'sql', status: 'RUNNING' } },
      {
        step: {
          stepId: 'extract',
          status: 'COMPLETED',
          rowCounts: { out: 10 },
          columns: { out: ['a', 'b'] },
          outputs: { file: 'x.csv' },
        },
      },
      { step: { stepId: 'notify', type: 'email', status: 'SKIPPED' } },
      { step: { stepId: 'load', type: 'copy', status: 'FAILED', error: { code: 'DISK', message: 'disk full' } } },
      { statusChanged: { to: 'FAILED', error: { code: 'STEP_FAILED', message: 'load failed', step: 'load' } } },
    ]);
    const r = await wait(id);
    expect(r.status).toBe(200);
    expectSeedShape(r.body);
    expect(r.body).toMatchObject({
      id,
      organizationId: 'default',
      environment: 'test',
      workflowId: 'nightly-etl',
      eventId: 'evt_1',
      triggerType: 'event',
      entityType: 'order',
      entityId: 'o_9',
      eventType: 'order.created',
      status: 'errored',
      error: 'load failed',
      alertIds: [],
      initiatedBy: 'user_7',
      producedRecords: [],
      producedFiles: [],
      inputs: { date: '2026-01-31' },
      resolvedVariables: { region: 'eu' },
      warnings: [],
    });
    expect(r.body.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.body.workflowTrace).toMatchObject({
      workflowSnapshot: snapshot,
      durationMs: r.body.durationMs,
      error: 'load failed',
    });
    expect(r.body.workflowTrace.nodeTraces).toEqual([
      {
        nodeId: 'extract',
        type: 'sql',
        durationMs: expect.any(Number),
        error: null,
        skipped: false,
        rowCounts: { out: 10 },
        columns: { out: ['a', 'b'] },
        outputs: { file: 'x.csv' },
      },
      {
        nodeId: 'notify',
        type: 'email',
        durationMs: null,
        error: null,
        skipped: true,
        rowCounts: {},
        columns: {},
        outputs: {},
      },
      {
        nodeId: 'load',
        type: 'copy',
        durationMs: null,
        error: 'disk full',
        skipped: false,
        rowCounts: {},
        columns: {},
        outputs: {},
      },
    ]);
  });

  it('fills what has no source with the seed defaults: "" eventId, nulls, [] and {}', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const r = await wait(id);
    expectSeedShape(r.body);
    expect(r.body).toMatchObject({
      eventId: '',
      triggerType: 'manual',
      entityType: null,
      entityId: null,
      eventType: null,
      error: null,
      initiatedBy: null,
      inputs: {},
      resolvedVariables: {},
      workflowTrace: { workflowSnapshot: { nodes: [], edges: [] }, nodeTraces: [], error: null },
    });
  });

  it("says each unified status in seed 001's vocabulary", async () => {
    const table: [string, string][] = [
      ['PENDING', 'running'],
      ['RUNNING', 'running'],
      ['WAITING_FOR_INPUT', 'waiting_for_input'],
      ['INTERRUPTED', 'abandoned'],
      ['COMPLETED', 'completed'],
      ['FAILED', 'errored'],
      ['CANCELLED', 'cancelled'],
      ['TIMED_OUT', 'timed_out'],
    ];
    // Concurrently: the open ones each take the whole (minimum) timeout.
    const seen = await Promise.all(
      table.map(async ([unified]) => {
        const r = await wait(await executionIn(s, unified), 'timeoutMs=1000');
        expect(r.status).toBe(200);
        expectSeedShape(r.body);
        return [unified, r.body.status];
      }),
    );
    expect(seen).toEqual(table);
  });

  it('answers the current state when the timeout passes (200, not an error)', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    const started = Date.now();
    const r = await wait(id, 'timeoutMs=1000');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'running', completedAt: null, durationMs: null });
  });

  it('returns as soon as the execution becomes terminal, and waits longer than 1 s by default', async () => {
    const { id } = await createViaRest(s);
    let settled = false;
    const pending = wait(id, '').then((r) => {
      settled = true;
      return r;
    });
    await sleep(1200);
    expect(settled).toBe(false);
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const r = await pending;
    expect(r.body).toMatchObject({ status: 'completed', completedAt: expect.stringMatching(ISO_UTC) });
  });

  it('answers 404 EXECUTION_NOT_FOUND for an unknown id', async () => {
    expectError(await wait(UNKNOWN_ID), 404, 'EXECUTION_NOT_FOUND');
  });

  it('answers 422 for an id that is not a UUID (the seed declares string<uuid>)', async () => {
    const r = await wait('not-a-uuid');
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual(['path.id']);
  });

  it.each(['999', '60001', 'abc', '1500.5', '', '-1000'])('answers 422 for timeoutMs=%s', async (value) => {
    const { id } = await createViaRest(s);
    const r = await wait(id, `timeoutMs=${value}`);
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual(['query.timeoutMs']);
  });

  it('accepts the bounds 1000 and 60000', async () => {
    const id = await executionIn(s, 'COMPLETED');
    expect((await wait(id, 'timeoutMs=1000')).status).toBe(200);
    expect((await wait(id, 'timeoutMs=60000')).status).toBe(200);
  });

  it('echoes X-Correlation-Id', async () => {
    const r = await wait(UNKNOWN_ID, 'timeoutMs=1000', { 'x-correlation-id': 'poll-1' });
    expect(r.headers.get('x-correlation-id')).toBe('poll-1');
    expect(r.body).toMatchObject({ correlation_id: 'poll-1' });
  });
});
