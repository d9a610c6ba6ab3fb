import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, ISO_UTC, locsOf, recordViaRest, rest, UNKNOWN_ID } from '../support/rest.js';

type Execution = Record<string, unknown> & { id: string; status: string; lastSequence: number };
type Recorded = { execution: Execution; events: Record<string, unknown>[] };

const EXECUTION_FIELDS = [
  'attempt',
  'completedAt',
  'createdAt',
  'deadlineAt',
  'durationMs',
  'environment',
  'error',
  'heartbeatTimeoutSeconds',
  'id',
  'initiatedBy',
  'inputs',
  'lastSequence',
  'logBytes',
  'logTruncated',
  'metadata',
  'organizationId',
  'output',
  'parentExecutionId',
  'pinned',
  'progress',
  'resolvedVariables',
  'retryOf',
  'rootExecutionId',
  'startedAt',
  'stats',
  'status',
  'steps',
  'tags',
  'timeoutSeconds',
  'trigger',
  'updatedAt',
  'workflowId',
  'workflowVersion',
];

describe.each(DB_KINDS)('REST ingest on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const create = (body: unknown, headers?: Record<string, string>) =>
    rest<Execution>(s, 'POST', '/api/v1/executions', { json: body, headers });
  const record = (id: string, events: unknown) =>
    rest<Recorded>(s, 'POST', `/api/v1/executions/${id}/events`, { json: { events } });
  const viaGraphQL = async (id: string) =>
    ok(
      await s.gql<{ execution: { status: string; lastSequence: number; workflowId: string } }>(
        `query($id: ID!) { execution(id: $id) { status lastSequence workflowId } }`,
        { id },
      ),
    ).execution;

  describe('POST /api/v1/executions', () => {
    it('creates an execution in PENDING (201) and answers it in GraphQL’s shape, as JSON', async () => {
      const r = await create({
        workflowId: 'nightly-etl',
        workflowVersion: '7',
        inputs: { date: '2026-01-31' },
        timeoutSeconds: 3600,
      });
      expect(r.status).toBe(201);
      expect(Object.keys(r.body).sort()).toEqual(EXECUTION_FIELDS);
      expect(r.body).toMatchObject({
        organizationId: 'default',
        environment: 'test',
        workflowId: 'nightly-etl',
        workflowVersion: '7',
        status: 'PENDING',
        trigger: { type: 'manual', eventId: null },
        inputs: { date: '2026-01-31' },
        timeoutSeconds: 3600,
        lastSequence: 0,
        stats: { totalMessages: 0, successRate: 0 },
        steps: [],
      });
      expect(r.body.createdAt).toMatch(ISO_UTC);
      expect(r.body.deadlineAt).toMatch(ISO_UTC);
      expect(await viaGraphQL(r.body.id)).toMatchObject({ status: 'PENDING', workflowId: 'nightly-etl' });
    });

    it('answers a retry with the same idempotencyKey with the same execution (200), a different request 409', async () => {
      const body = { workflowId: 'wf', idempotencyKey: `key-${kind}` };
      const first = await create(body);
      const again = await create(body);
      expect([first.status, again.status]).toEqual([201, 200]);
      expect(again.body.id).toBe(first.body.id);
      expectError(await create({ ...body, workflowVersion: '2' }), 409, 'IDEMPOTENCY_CONFLICT');
    });

    it('shares idempotency keys with GraphQL: both surfaces create through the same function', async () => {
      const key = `shared-${kind}`;
      const viaGql = await createExecution(s, { workflowId: 'wf-rest', idempotencyKey: key });
      const r = await create({ workflowId: 'wf-rest', idempotencyKey: key });
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(viaGql.id);
    });

    it('creates in the environment of X-Environment, invisible from the other', async () => {
      const r = await create({ workflowId: 'wf' }, { 'x-environment': 'live' });
      expect(r.body.environment).toBe('live');
      expectError(await rest(s, 'GET', `/api/v1/executions/${r.body.id}`), 404, 'EXECUTION_NOT_FOUND');
    });

    it.each([
      [{}, 'body.workflowId'],
      [{ workflowId: '' }, 'body.workflowId'],
      [{ workflowId: 'wf', timeoutSeconds: 0 }, 'body.timeoutSeconds'],
      [{ workflowId: 'wf', trigger: { eventId: 'x' } }, 'body.trigger.type'],
      [{ workflowId: 'wf', colour: 'red' }, 'body'],
    ])('answers 422 for %j', async (body, loc) => {
      const r = await create(body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(locsOf(r)).toEqual([loc]);
    });
  });

  describe('POST /api/v1/executions/{execution_id}/events', () => {
    it('appends a batch in order and answers the execution and the events it appended', async () => {
      const { id } = await createViaRest(s);
      const r = await record(id, [
        { statusChanged: { to: 'RUNNING' } },
        { progress: { step: 'extract', percentage: 20 } },
        { step: { stepId: 's1', type: 'sql', status: 'RUNNING' } },
        { message: { messageId: 'm1', adapter: 'kafka', status: 'INITIATED' } },
      ]);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body.execution).sort()).toEqual(EXECUTION_FIELDS);
      expect(r.body.execution).toMatchObject({
        status: 'RUNNING',
        lastSequence: 4,
        progress: { step: 'extract', percentage: 20 },
        stats: { totalMessages: 1, inProgressMessages: 1 },
        startedAt: expect.stringMatching(ISO_UTC),
      });
      expect(r.body.events).toEqual([
        {
          sequence: 1,
          executionId: id,
          type: 'STATUS_CHANGED',
          occurredAt: expect.any(String),
          from: 'PENDING',
          to: 'RUNNING',
        },
        {
          sequence: 2,
          executionId: id,
          type: 'PROGRESS',
          occurredAt: expect.any(String),
          step: 'extract',
          percentage: 20,
        },
        {
          sequence: 3,
          executionId: id,
          type: 'STEP',
          occurredAt: expect.any(String),
          stepId: 's1',
          stepType: 'sql',
          status: 'RUNNING',
        },
        {
          sequence: 4,
          executionId: id,
          type: 'MESSAGE',
          occurredAt: expect.any(String),
          messageId: 'm1',
          adapter: 'kafka',
          status: 'INITIATED',
        },
      ]);
      expect(await viaGraphQL(id)).toMatchObject({ status: 'RUNNING', lastSequence: 4 });
    });

    it('takes an empty batch as a heartbeat that writes no event', async () => {
      const { id } = await createViaRest(s);
      const r = await record(id, []);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ events: [], execution: { lastSequence: 0, status: 'PENDING' } });
    });

    it('keeps the occurredAt a worker sends, normalized to UTC', async () => {
      const { id } = await createViaRest(s);
      const r = await record(id, [{ progress: { percentage: 1 }, occurredAt: '2026-01-31T13:00:00+01:00' }]);
      expect(r.body.events[0]?.occurredAt).toBe('2026-01-31T12:00:00.000Z');
    });

    it('refuses a whole batch whose last event is invalid, writing nothing (422)', async () => {
      const { id } = await createViaRest(s);
      const r = await record(id, [{ progress: { percentage: 50 } }, { progress: { percentage: 150 } }]);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(locsOf(r)).toEqual(['body.events.1.progress.percentage']);
      expect((await viaGraphQL(id)).lastSequence).toBe(0);
    });

    it('refuses a batch for a terminal execution with 400 INVALID_STATUS_TRANSITION, writing nothing', async () => {
      const { id } = await createViaRest(s);
      await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
      expectError(await record(id, [{ progress: { percentage: 1 } }]), 400, 'INVALID_STATUS_TRANSITION');
      expect(await viaGraphQL(id)).toMatchObject({ status: 'COMPLETED', lastSequence: 1 });
    });

    it('refuses a status only the server sets (INTERRUPTED, PENDING) with 400', async () => {
      const { id } = await createViaRest(s);
      expectError(await record(id, [{ statusChanged: { to: 'INTERRUPTED' } }]), 400, 'INVALID_STATUS_TRANSITION');
      expectError(await record(id, [{ statusChanged: { to: 'PENDING' } }]), 400, 'INVALID_STATUS_TRANSITION');
    });

    it('answers 404 EXECUTION_NOT_FOUND for an unknown id and for an id that is not a UUID', async () => {
      expectError(await record(UNKNOWN_ID, []), 404, 'EXECUTION_NOT_FOUND');
      expectError(await record('exec_abc123', []), 404, 'EXECUTION_NOT_FOUND');
    });
  });
});
