import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CREATE,
  codeOf,
  createExecution,
  DB_KINDS,
  ok,
  record,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const LINEAGE = `query($id: ID!) { execution(id: $id) {
  id parentExecutionId rootExecutionId attempt retryOf pinned
  parent { id } retries { id attempt } children(first: 10) { edges { node { id } } pageInfo { hasNextPage } }
} }`;
const CANCEL = `mutation($id: ID!, $cascade: Boolean, $status: ExecutionStatusTarget = CANCELLED) {
  updateExecutionStatus(id: $id, status: $status, cascade: $cascade) { success previousStatus currentStatus execution { id status } }
}`;
const EVENTS = `query($id: ID!) { execution(id: $id) { status events { sequence type ... on StatusChangedEvent { from to } } } }`;

interface Lineage {
  id: string;
  parentExecutionId: string | null;
  rootExecutionId: string;
  attempt: number;
  retryOf: string | null;
  pinned: boolean;
  parent: { id: string } | null;
  retries: { id: string; attempt: number }[];
  children: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean } };
}
type Issue = { loc: (string | number)[] };
const locOf = (res: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  ((res.errors?.[0]?.extensions?.issues ?? []) as Issue[])[0]?.loc;

describe.each(DB_KINDS)('lineage on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const lineage = async (id: string) => ok(await s.gql<{ execution: Lineage }>(LINEAGE, { id })).execution;
  const complete = (id: string) => record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);

  it('makes a root its own root, at attempt 1, not pinned', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-root' });
    expect(await lineage(id)).toMatchObject({
      parentExecutionId: null,
      rootExecutionId: id,
      attempt: 1,
      retryOf: null,
      pinned: false,
      parent: null,
      retries: [],
      children: { edges: [], pageInfo: { hasNextPage: false } },
    });
  });

  it('links a child to its parent and root, and lists children newest first', async () => {
    const root = await createExecution(s, { workflowId: 'wf-tree' });
    const child = await createExecution(s, { workflowId: 'wf-tree-child', parentExecutionId: root.id });
    const grandchild = await createExecution(s, { workflowId: 'wf-tree-child', parentExecutionId: child.id });
    const second = await createExecution(s, { workflowId: 'wf-tree-child', parentExecutionId: root.id.toUpperCase() });
    expect(await lineage(grandchild.id)).toMatchObject({
      parentExecutionId: child.id,
      rootExecutionId: root.id,
      parent: { id: child.id },
    });
    const r = await lineage(root.id);
    expect(r.children.edges.map((e) => e.node.id)).toEqual([second.id, child.id]);
    const tree = ok(
      await s.gql<{ executions: { edges: { node: { id: string } }[] } }>(
        `query($root: ID!) { executions(filter: { rootExecutionId: $root }) { edges { node { id } } } }`,
        { root: root.id },
      ),
    );
    expect(tree.executions.edges.map((e) => e.node.id)).toEqual([second.id, grandchild.id, child.id, root.id]);
  });

  it('answers the creation of a child or a retry exactly as a later read of it', async () => {
    const FIELDS = `id organizationId environment workflowId workflowVersion status inputs metadata trigger { type eventId }
      initiatedBy createdAt updatedAt deadlineAt timeoutSeconds heartbeatTimeoutSeconds lastSequence steps { id }
      tags { key value } parentExecutionId rootExecutionId attempt retryOf pinned`;
    const parent = await createExecution(s, { workflowId: 'wf-same' });
    const input = {
      workflowId: 'wf-same',
      parentExecutionId: parent.id,
      workflowVersion: '2',
      inputs: { a: [1, { b: null }] },
      metadata: { m: 'x' },
      trigger: { type: 'event', eventId: 'e1' },
      initiatedBy: 'u',
      timeoutSeconds: 600,
      heartbeatTimeoutSeconds: 60,
      idempotencyKey: 'same-child',
      tags: [
        { key: 'z', value: '' },
        { key: 'a', value: 'é' },
      ],
    };
    const created = ok(
      await s.gql<{ createExecution: Record<string, unknown> }>(
        `mutation($input: CreateExecutionInput!) { createExecution(input: $input) { ${FIELDS} } }`,
        { input },
      ),
    ).createExecution;
    const read = ok(
      await s.gql<{ execution: Record<string, unknown> }>(`query($id: ID!) { execution(id: $id) { ${FIELDS} } }`, {
        id: created.id,
      }),
    ).execution;
    expect(created).toEqual(read);
    expect(created).toMatchObject({ parentExecutionId: parent.id, rootExecutionId: parent.id, attempt: 1 });
    const replay = await createExecution(s, input);
    expect(replay.id).toBe(created.id);
  });

  it('refuses a parent or retryOf that is missing or in another tenant with the same EXECUTION_NOT_FOUND', async () => {
    const other = await createExecution(s, { workflowId: 'wf-other' }, { 'x-environment': 'live' });
    await record(s, other.id, [{ statusChanged: { to: 'FAILED' } }], { 'x-environment': 'live' });
    const missing = '01900000-0000-7000-8000-000000000000';
    for (const field of ['parentExecutionId', 'retryOf']) {
      const hidden = await s.gql(CREATE, { input: { workflowId: 'wf-other', [field]: other.id } });
      const absent = await s.gql(CREATE, { input: { workflowId: 'wf-other', [field]: missing } });
      expect(codeOf(hidden)).toBe('EXECUTION_NOT_FOUND');
      expect(codeOf(absent)).toBe('EXECUTION_NOT_FOUND');
      expect(hidden.errors?.[0]?.message).toBe(absent.errors?.[0]?.message.replace(missing, other.id));
    }
    const malformed = await s.gql(CREATE, { input: { workflowId: 'wf-other', parentExecutionId: 'nope' } });
    expect(codeOf(malformed)).toBe('VALIDATION_FAILED');
    expect(locOf(malformed)).toEqual(['parentExecutionId']);
  });

  it('allows depth 32 and refuses depth 33 with VALIDATION_FAILED, writing nothing', async () => {
    let parent = (await createExecution(s, { workflowId: 'wf-deep' })).id;
    for (let depth = 2; depth <= 32; depth++) {
      parent = (await createExecution(s, { workflowId: 'wf-deep', parentExecutionId: parent })).id;
    }
    const res = await s.gql(CREATE, { input: { workflowId: 'wf-too-deep', parentExecutionId: parent } });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect(locOf(res)).toEqual(['parentExecutionId']);
    const count = ok(
      await s.gql<{ executionCounts: { total: number } }>(
        `{ executionCounts(filter: { workflowId: "wf-too-deep" }) { total } }`,
      ),
    );
    expect(count.executionCounts.total).toBe(0);
  });

  it('retries a terminal execution of the same workflow: attempt + 1, the retried one’s parent, listed in retries', async () => {
    const parent = await createExecution(s, { workflowId: 'wf-retry-parent' });
    const first = await createExecution(s, { workflowId: 'wf-retry', parentExecutionId: parent.id });
    const running = await s.gql(CREATE, { input: { workflowId: 'wf-retry', retryOf: first.id } });
    expect(codeOf(running)).toBe('VALIDATION_FAILED');
    expect(locOf(running)).toEqual(['retryOf']);
    await record(s, first.id, [{ statusChanged: { to: 'FAILED' } }]);
    const otherWorkflow = await s.gql(CREATE, { input: { workflowId: 'wf-else', retryOf: first.id } });
    expect(codeOf(otherWorkflow)).toBe('VALIDATION_FAILED');
    expect(locOf(otherWorkflow)).toEqual(['workflowId']);
    const second = await createExecution(s, { workflowId: 'wf-retry', retryOf: first.id });
    await record(s, second.id, [{ statusChanged: { to: 'FAILED' } }]);
    const third = await createExecution(s, { workflowId: 'wf-retry', retryOf: second.id });
    expect(await lineage(third.id)).toMatchObject({
      attempt: 3,
      retryOf: second.id,
      parentExecutionId: parent.id,
      rootExecutionId: parent.id,
    });
    const again = await createExecution(s, { workflowId: 'wf-retry', retryOf: first.id });
    expect((await lineage(first.id)).retries).toEqual([
      { id: second.id, attempt: 2 },
      { id: again.id, attempt: 2 },
    ]);
    const rootRetry = await createExecution(s, { workflowId: 'wf-retry-parent', retryOf: (await completeRoot()).id });
    expect(await lineage(rootRetry.id)).toMatchObject({
      parentExecutionId: null,
      rootExecutionId: rootRetry.id,
      attempt: 2,
    });
  });

  async function completeRoot() {
    const root = await createExecution(s, { workflowId: 'wf-retry-parent' });
    await complete(root.id);
    return root;
  }

  it('resolves parent, retries and children of a whole list in a few queries', async () => {
    const root = await createExecution(s, { workflowId: 'wf-batch' });
    for (let i = 0; i < 5; i++) await createExecution(s, { workflowId: 'wf-batch-child', parentExecutionId: root.id });
    const res = ok(
      await s.gql<{
        executions: { edges: { node: { parent: { id: string } | null; children: { edges: unknown[] } } }[] };
      }>(
        `{ executions(filter: { rootExecutionId: "${root.id}" }, first: 10) {
          edges { node { parent { id } retries { id } children(first: 2) { edges { node { id } } pageInfo { hasNextPage } } } } } }`,
      ),
    );
    const nodes = res.executions.edges.map((e) => e.node);
    expect(nodes).toHaveLength(6);
    expect(nodes.filter((n) => n.parent?.id === root.id)).toHaveLength(5);
    expect(nodes.at(-1)?.children.edges).toHaveLength(2);
  });

  it('cancels every non-terminal descendant with cascade, each with its own STATUS_CHANGED event', async () => {
    const root = await createExecution(s, { workflowId: 'wf-cascade' });
    const a = await createExecution(s, { workflowId: 'wf-cascade', parentExecutionId: root.id });
    const b = await createExecution(s, { workflowId: 'wf-cascade', parentExecutionId: root.id });
    const aa = await createExecution(s, { workflowId: 'wf-cascade', parentExecutionId: a.id });
    await record(s, aa.id, [{ statusChanged: { to: 'RUNNING' } }]);
    await complete(b.id);
    const unrelated = await createExecution(s, { workflowId: 'wf-cascade' });
    const res = ok(
      await s.gql<{ updateExecutionStatus: Record<string, unknown> }>(CANCEL, { id: root.id, cascade: true }),
    );
    expect(res.updateExecutionStatus).toMatchObject({
      success: true,
      previousStatus: 'PENDING',
      currentStatus: 'CANCELLED',
      execution: { id: root.id, status: 'CANCELLED' },
    });
    const events = async (id: string) =>
      ok(
        await s.gql<{ execution: { status: string; events: { type: string; from?: string; to?: string }[] } }>(EVENTS, {
          id,
        }),
      ).execution;
    expect(await events(a.id)).toEqual({
      status: 'CANCELLED',
      events: [{ sequence: 1, type: 'STATUS_CHANGED', from: 'PENDING', to: 'CANCELLED' }],
    });
    expect((await events(aa.id)).events.at(-1)).toEqual({
      sequence: 2,
      type: 'STATUS_CHANGED',
      from: 'RUNNING',
      to: 'CANCELLED',
    });
    expect((await events(b.id)).status).toBe('COMPLETED');
    expect((await events(b.id)).events).toHaveLength(1);
    expect((await events(unrelated.id)).status).toBe('PENDING');
  });

  it('finishes a cascade on an execution already cancelled, and refuses one on a completed execution', async () => {
    const parent = await createExecution(s, { workflowId: 'wf-cascade-again' });
    const child = await createExecution(s, { workflowId: 'wf-cascade-again', parentExecutionId: parent.id });
    ok(await s.gql(CANCEL, { id: parent.id, cascade: false }));
    expect(ok(await s.gql<{ execution: { status: string } }>(EVENTS, { id: child.id })).execution.status).toBe(
      'PENDING',
    );
    const again = ok(
      await s.gql<{ updateExecutionStatus: Record<string, unknown> }>(CANCEL, { id: parent.id, cascade: true }),
    );
    expect(again.updateExecutionStatus).toMatchObject({
      success: true,
      previousStatus: 'CANCELLED',
      currentStatus: 'CANCELLED',
    });
    expect(ok(await s.gql<{ execution: { status: string } }>(EVENTS, { id: child.id })).execution.status).toBe(
      'CANCELLED',
    );

    const done = await createExecution(s, { workflowId: 'wf-cascade-again' });
    const running = await createExecution(s, { workflowId: 'wf-cascade-again', parentExecutionId: done.id });
    await complete(done.id);
    expect(codeOf(await s.gql(CANCEL, { id: done.id, cascade: true }))).toBe('INVALID_STATUS_TRANSITION');
    expect(ok(await s.gql<{ execution: { status: string } }>(EVENTS, { id: running.id })).execution.status).toBe(
      'PENDING',
    );
  });

  it('refuses cascade with another status than CANCELLED', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-cascade-bad' });
    const res = await s.gql(CANCEL, { id, cascade: true, status: 'FAILED' });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect(locOf(res)).toEqual(['cascade']);
    expect((await lineage(id)).id).toBe(id);
    const e = ok(await s.gql<{ execution: { status: string } }>(EVENTS, { id })).execution;
    expect(e.status).toBe('PENDING');
  });

  it('ends each child exactly once when a worker completes it while its parent is cancelled with cascade', async () => {
    for (let round = 0; round < 20; round++) {
      const parent = await createExecution(s, { workflowId: 'wf-race' });
      const child = await createExecution(s, { workflowId: 'wf-race', parentExecutionId: parent.id });
      await record(s, child.id, [{ statusChanged: { to: 'RUNNING' } }]);
      const [cancel, completed] = await Promise.all([
        s.gql<{ updateExecutionStatus: { success: boolean } }>(CANCEL, { id: parent.id, cascade: true }),
        complete(child.id),
      ]);
      expect(ok(cancel).updateExecutionStatus.success).toBe(true);
      const e = ok(
        await s.gql<{ execution: { status: string; events: { to?: string }[] } }>(EVENTS, { id: child.id }),
      ).execution;
      const terminal = e.events.filter((x) => x.to === 'COMPLETED' || x.to === 'CANCELLED');
      expect(terminal).toHaveLength(1);
      expect(e.status).toBe(terminal[0]?.to);
      // The worker's report either won or learned that its execution was cancelled.
      if (e.status === 'COMPLETED') expect(completed.errors).toBeUndefined();
      else expect(codeOf(completed)).toBe('INVALID_STATUS_TRANSITION');
    }
  });
});

describe('relatives in a list', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s.close());

  it('costs one query for the list and one each for parent, retries and children, whatever the rows', async () => {
    const root = await createExecution(s, { workflowId: 'wf-n1' });
    for (let i = 0; i < 8; i++) {
      const child = await createExecution(s, { workflowId: 'wf-n1', parentExecutionId: root.id });
      await createExecution(s, { workflowId: 'wf-n1', parentExecutionId: child.id });
    }
    const notifier = s.database.notifier;
    if (notifier.kind !== 'pglite') throw new Error('expected PGlite');
    const spy = vi.spyOn(notifier.pg, 'query');
    try {
      const res = ok(
        await s.gql<{ executions: { edges: { node: { parent: { id: string } | null } }[] } }>(
          `{ executions(filter: { rootExecutionId: "${root.id}" }, first: 20) { edges { node {
            id parent { id } retries { id } children(first: 3) { edges { node { id } } } } } } }`,
        ),
      );
      expect(res.executions.edges).toHaveLength(17);
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });
});
