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
  UNKNOWN_ID,
} from '../support/rest.js';

type Body = Record<string, unknown>;
const BASE_FIELDS = [
  'completedAt',
  'createdAt',
  'error',
  'flowId',
  'id',
  'metadata',
  'output',
  'progress',
  'status',
  'version',
];

describe.each(DB_KINDS)('seed 004 GET /api/v1/executions/{executionId} on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '100' } });
  });
  afterAll(() => s.close());
  const get = (id: string, query = '', headers?: Record<string, string>) =>
    rest<Body>(s, 'GET', `/api/v1/executions/${id}${query}`, { headers });

  it('answers a running execution with progress, and no metrics or artifacts unless asked', async () => {
    const { id } = await createViaRest(s, {
      workflowId: 'invoice-extract',
      workflowVersion: '3',
      metadata: { team: 'ap' },
    });
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'ocr', percentage: 40 } }]);
    const r = await get(id);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(BASE_FIELDS);
    expect(r.body).toEqual({
      id,
      flowId: 'invoice-extract',
      version: '3',
      status: 'running',
      progress: { step: 'ocr', percentage: 40 },
      createdAt: expect.stringMatching(ISO_UTC),
      completedAt: null,
      output: null,
      error: null,
      metadata: { team: 'ap' },
    });
  });

  it('answers a completed execution with its output and completedAt', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED', output: { total: 12.5, currency: 'EUR' } } }]);
    const r = await get(id);
    expect(r.body).toMatchObject({
      status: 'completed',
      output: { total: 12.5, currency: 'EUR' },
      completedAt: expect.stringMatching(ISO_UTC),
      metadata: {},
      version: null,
    });
  });

  it('answers a failed execution with error {code, message, step}', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [
      { statusChanged: { to: 'FAILED', error: { code: 'OCR_FAILED', message: 'unreadable', step: 'ocr' } } },
    ]);
    expect((await get(id)).body).toMatchObject({
      status: 'failed',
      error: { code: 'OCR_FAILED', message: 'unreadable', step: 'ocr' },
    });
  });

  it.each([
    ['PENDING', 'pending'],
    ['RUNNING', 'running'],
    ['WAITING_FOR_INPUT', 'running'],
    ['INTERRUPTED', 'running'],
    ['COMPLETED', 'completed'],
    ['FAILED', 'failed'],
    ['CANCELLED', 'cancelled'],
    ['TIMED_OUT', 'failed'],
  ])('says %s as "%s"', async (unified, word) => {
    const id = await executionIn(s, unified);
    expect((await get(id)).body.status).toBe(word);
  });

  describe('with include', () => {
    let id: string;
    beforeAll(async () => {
      ({ id } = await createViaRest(s));
      await recordViaRest(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'ocr', status: 'COMPLETED', artifacts: { pages: ['p1.png'] } } },
        { step: { stepId: 'classify', status: 'FAILED', error: { code: 'E', message: 'x' } } },
        { step: { stepId: 'notify', status: 'SKIPPED' } },
        { message: { messageId: 'm1', status: 'INITIATED' } },
        { message: { messageId: 'm1', status: 'COMPLETED' } },
        { message: { messageId: 'm2', status: 'FAILED' } },
        { statusChanged: { to: 'COMPLETED' } },
      ]);
    });
    const metrics = {
      durationMs: expect.any(Number),
      totalMessages: 2,
      completedMessages: 1,
      failedMessages: 1,
      inProgressMessages: 0,
      successRate: 0.5,
      totalSteps: 3,
      completedSteps: 1,
      failedSteps: 1,
      skippedSteps: 1,
      cancelledSteps: 0,
    };

    it('adds metrics from the message counters and the steps', async () => {
      const r = await get(id, '?include=metrics');
      expect(Object.keys(r.body).sort()).toEqual([...BASE_FIELDS, 'metrics'].sort());
      expect(r.body.metrics).toEqual(metrics);
    });

    it('adds the artifacts each step reported, by step id', async () => {
      const r = await get(id, '?include=artifacts');
      expect(Object.keys(r.body).sort()).toEqual([...BASE_FIELDS, 'artifacts'].sort());
      expect(r.body.artifacts).toEqual({ ocr: { pages: ['p1.png'] } });
    });

    it.each(['?include=artifacts,metrics', '?include=metrics, artifacts', '?include=metrics,metrics,artifacts'])(
      'adds both for %s',
      async (query) => {
        const r = await get(id, query);
        expect(r.body).toMatchObject({ metrics, artifacts: { ocr: { pages: ['p1.png'] } } });
      },
    );

    it.each(['?include=', '?include=%20'])('adds neither for %s', async (query) => {
      expect(Object.keys((await get(id, query)).body).sort()).toEqual(BASE_FIELDS);
    });

    it.each(['?include=logs', '?include=metrics,,artifacts', '?include=METRICS'])('answers 422 for %s', async (q) => {
      const r = await get(id, q);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(locsOf(r)).toEqual(['query.include']);
    });
  });

  it('answers 404 EXECUTION_NOT_FOUND for an unknown id and for an id like exec_abc123', async () => {
    expectError(await get(UNKNOWN_ID), 404, 'EXECUTION_NOT_FOUND');
    expectError(await get('exec_abc123'), 404, 'EXECUTION_NOT_FOUND');
  });

  it('never shows an execution of the other environment', async () => {
    const { id } = await createViaRest(s);
    expect((await get(id, '', { 'x-environment': 'test' })).status).toBe(200);
    expectError(await get(id, '', { 'x-environment': 'live' }), 404, 'EXECUTION_NOT_FOUND');
  });

  it('answers 422 for an X-Environment other than test or live', async () => {
    const { id } = await createViaRest(s);
    const r = await get(id, '', { 'x-environment': 'prod' });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual(['header.x-environment']);
  });

  it('echoes X-Correlation-Id', async () => {
    const r = await get(UNKNOWN_ID, '', { 'x-correlation-id': 'poll.9' });
    expect(r.headers.get('x-correlation-id')).toBe('poll.9');
    expect(r.body).toMatchObject({ correlation_id: 'poll.9' });
  });
});
