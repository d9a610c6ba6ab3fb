import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE, codeOf, createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';

const GET = `query($id: ID!) { execution(id: $id) {
  id organizationId environment workflowId workflowVersion status progress { step percentage } inputs output metadata
  resolvedVariables error { code message } trigger { type eventId eventType entityType entityId } initiatedBy
  createdAt startedAt completedAt updatedAt durationMs lastSequence steps { id }
  stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
} }`;

const LIST = `query($filter: ExecutionFilter, $first: Int, $after: String) {
  executions(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id workflowId status createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type ListData = {
  executions: {
    edges: { cursor: string; node: { id: string; workflowId: string; status: string; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

describe.each(DB_KINDS)('executions on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('creates an execution in PENDING with the documented defaults', async () => {
    const res = await s.gql(CREATE.replace('lastSequence createdAt', 'lastSequence createdAt trigger { type }'), {
      input: { workflowId: 'wf-defaults' },
    });
    const e = ok(res).createExecution as Record<string, unknown>;
    expect(e.status).toBe('PENDING');
    expect(e.lastSequence).toBe(0);
    expect(e.trigger).toEqual({ type: 'manual' });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // UUID v7
    expect(e.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('reads back every field it was created with', async () => {
    const input = {
      workflowId: 'wf-full',
      workflowVersion: '1.2.3',
      trigger: { type: 'event', eventId: 'ev-1', eventType: 'order.created', entityType: 'order', entityId: 'o-9' },
      initiatedBy: 'user-7',
      inputs: { a: 1, nested: { b: [1, 2] } },
      metadata: { team: 'x' },
      resolvedVariables: { region: 'eu' },
    };
    const { id } = await createExecution(s, input);
    const e = ok(await s.gql<{ execution: Record<string, unknown> }>(GET, { id })).execution;
    expect(e).toMatchObject({
      id,
      organizationId: 'default',
      environment: 'TEST',
      ...input,
      status: 'PENDING',
      progress: null,
      output: null,
      error: null,
      startedAt: null,
      completedAt: null,
      durationMs: null,
      lastSequence: 0,
      steps: [],
      stats: { totalMessages: 0, completedMessages: 0, failedMessages: 0, inProgressMessages: 0, successRate: 0 },
    });
  });

  it('returns null for an unknown id and for a malformed one', async () => {
    const unknown = await s.gql(GET, { id: '01900000-0000-7000-8000-000000000000' });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data).toEqual({ execution: null });
    const malformed = await s.gql(GET, { id: 'not-a-uuid' });
    expect(malformed.data).toEqual({ execution: null });
  });

  it('returns the same execution for a retry with the same idempotencyKey and input', async () => {
    const input = { workflowId: 'wf-idem', idempotencyKey: 'key-1', inputs: { x: 1, y: 2 } };
    const a = await createExecution(s, input);
    const b = await createExecution(s, { ...input, inputs: { y: 2, x: 1 } }); // key order does not matter
    expect(b.id).toBe(a.id);
  });

  it('refuses a different request under a used idempotencyKey with IDEMPOTENCY_CONFLICT', async () => {
    await createExecution(s, { workflowId: 'wf-idem2', idempotencyKey: 'key-2' });
    const res = await s.gql(CREATE, { input: { workflowId: 'wf-other', idempotencyKey: 'key-2' } });
    expect(codeOf(res)).toBe('IDEMPOTENCY_CONFLICT');
    expect(res.data).toBeNull();
  });

  it('keeps idempotency keys apart per environment', async () => {
    const a = await createExecution(
      s,
      { workflowId: 'wf-env', idempotencyKey: 'key-env' },
      { 'x-environment': 'test' },
    );
    const b = await createExecution(
      s,
      { workflowId: 'wf-env', idempotencyKey: 'key-env' },
      { 'x-environment': 'live' },
    );
    expect(b.id).not.toBe(a.id);
  });

  it('gives racing creates with one idempotencyKey one execution', async () => {
    const input = { workflowId: 'wf-race', idempotencyKey: 'key-race' };
    const all = await Promise.all(Array.from({ length: 10 }, () => createExecution(s, input)));
    expect(new Set(all.map((e) => e.id)).size).toBe(1);
  });

  it.each([
    [{ workflowId: '' }, 'workflowId'],
    [{ workflowId: 'x', timeoutSeconds: 0 }, 'timeoutSeconds'],
    [{ workflowId: 'x', heartbeatTimeoutSeconds: -5 }, 'heartbeatTimeoutSeconds'],
    [{ workflowId: 'x', trigger: { type: '' } }, 'trigger'],
  ])('refuses invalid input %j with VALIDATION_FAILED naming %s', async (input, field) => {
    const res = await s.gql(CREATE, { input });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    const issues = res.errors?.[0]?.extensions?.issues as { loc: string[] }[];
    expect(issues[0]?.loc[0]).toBe(field);
  });

  it('refuses a JSON field over the size limit', async () => {
    const res = await s.gql(CREATE, { input: { workflowId: 'x', inputs: { blob: 'x'.repeat(70 * 1024) } } });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
  });

  it('lists newest first with cursor pagination and no duplicates or gaps', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createExecution(s, { workflowId: 'wf-page' })).id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const data: ListData = ok(await s.gql<ListData>(LIST, { filter: { workflowId: 'wf-page' }, first: 2, after }));
      seen.push(...data.executions.edges.map((e) => e.node.id));
      if (!data.executions.pageInfo.hasNextPage) break;
      after = data.executions.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and creation time', async () => {
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5)); // createdAfter is strict; leave the millisecond
    const { id } = await createExecution(s, { workflowId: 'wf-filter' });
    await s.gql(`mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED) { success } }`, { id });
    const cancelled = ok(
      await s.gql<ListData>(LIST, { filter: { workflowId: 'wf-filter', status: ['CANCELLED'] }, first: 10 }),
    );
    expect(cancelled.executions.edges.map((e) => e.node.id)).toEqual([id]);
    const pending = ok(await s.gql<ListData>(LIST, { filter: { workflowId: 'wf-filter', status: ['PENDING'] } }));
    expect(pending.executions.edges).toEqual([]);
    const later = ok(await s.gql<ListData>(LIST, { filter: { workflowId: 'wf-filter', createdAfter: before } }));
    expect(later.executions.edges.map((e) => e.node.id)).toEqual([id]);
    const earlier = ok(await s.gql<ListData>(LIST, { filter: { workflowId: 'wf-filter', createdBefore: before } }));
    expect(earlier.executions.edges).toEqual([]);
  });

  it('refuses a forged cursor and an out-of-range page size', async () => {
    expect(codeOf(await s.gql(LIST, { after: 'bm9wZQ' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(await s.gql(LIST, { first: 1000 }))).toBe('VALIDATION_FAILED');
  });

  it('echoes X-Correlation-Id and puts it in error extensions', async () => {
    const res = await s.gql(CREATE, { input: { workflowId: '' } }, { 'x-correlation-id': 'corr-123' });
    expect(res.headers.get('x-correlation-id')).toBe('corr-123');
    expect(res.errors?.[0]?.extensions?.correlationId).toBe('corr-123');
    const fresh = await s.gql('{ __typename }');
    expect(fresh.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps test and live executions apart', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-live' }, { 'x-environment': 'live' });
    const fromTest = await s.gql(GET, { id }, { 'x-environment': 'test' });
    expect(fromTest.data).toEqual({ execution: null });
    const fromLive = await s.gql<{ execution: { environment: string } }>(GET, { id }, { 'x-environment': 'live' });
    expect(ok(fromLive).execution.environment).toBe('LIVE');
  });
});
