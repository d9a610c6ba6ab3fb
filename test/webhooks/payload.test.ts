import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, type TestServer, UPDATE_STATUS } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, createWebhook, startHookServer } from './support.js';

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface Type {
  name: string;
  fields: { name: string; args: unknown[]; type: TypeRef }[] | null;
}

/** A selection of every field of `Execution` (recursively), built from introspection, so a new field is included. */
async function everyFieldOf(s: TestServer, typeName: string, skip: string[]): Promise<string> {
  const res = ok(
    await s.gql<{ __schema: { types: Type[] } }>(
      '{ __schema { types { name fields { name args { name } type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }',
    ),
  );
  const types = new Map(res.__schema.types.map((t) => [t.name, t]));
  const named = (t: TypeRef): string => (t.ofType ? named(t.ofType) : (t.name ?? ''));
  const select = (name: string): string => {
    const type = types.get(name);
    if (!type?.fields) return '';
    const parts = type.fields
      .filter((f) => !skip.includes(`${name}.${f.name}`))
      .map((f) => {
        const inner = select(named(f.type));
        return inner ? `${f.name} { ${inner} }` : f.name;
      });
    return parts.join(' ');
  };
  return select(typeName);
}

describe.each(DB_KINDS)('the webhook body on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  let selection: string;
  beforeAll(async () => {
    s = await startHookServer(kind);
    rx = await startReceiver();
    await createWebhook(s, { url: rx.url, events: ['execution.status_changed'] });
    // The relatives are other executions (and recursive); the body carries their ids (parentExecutionId, retryOf).
    selection = await everyFieldOf(s, 'Execution', [
      'Execution.events',
      'Execution.logs',
      'Execution.parent',
      'Execution.children',
      'Execution.retries',
    ]);
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  const graphqlView = async (id: string) =>
    ok(
      await s.gql<{ execution: Record<string, unknown> }>(`query($id: ID!) { execution(id: $id) { ${selection} } }`, {
        id,
      }),
    ).execution;
  const delivered = async (id: string, status: string) => {
    const [got] = await rx.waitFor(
      1,
      (r) => r.body.data?.execution?.id === id && r.body.data.execution.status === status,
      3000,
    );
    return got?.body.data.execution;
  };

  it('carries the execution exactly as a GraphQL query of every field returns it (everything set)', async () => {
    const { id } = await createExecution(s, {
      workflowId: 'wf-shape',
      workflowVersion: '1.2.3',
      trigger: { type: 'event', eventId: 'ev-1', eventType: 'order.created', entityType: 'order', entityId: 'o-9' },
      initiatedBy: 'user-7',
      inputs: { a: 1, nested: { b: [1, 2] } },
      metadata: { team: 'data' },
      resolvedVariables: { region: 'eu' },
      timeoutSeconds: 3600,
      heartbeatTimeoutSeconds: 600,
    });
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { progress: { step: 'load', percentage: 42.5 } },
        {
          step: {
            stepId: 's1',
            name: 'Load',
            type: 'sql',
            status: 'FAILED',
            error: { code: 'E1', message: 'bad row', step: 's1', details: { row: 3 } },
            outputs: { rows: 10 },
            artifacts: [{ uri: 's3://x' }],
            rowCounts: { in: 10, out: 9 },
            columns: ['a', 'b'],
          },
        },
        { step: { stepId: 's2', status: 'SKIPPED', skipped: true } },
        { message: { messageId: 'm1', status: 'INITIATED' } },
        { message: { messageId: 'm1', status: 'COMPLETED' } },
        { message: { messageId: 'm2', status: 'FAILED', error: { code: 'E2', message: 'lost' } } },
        {
          statusChanged: {
            to: 'FAILED',
            error: { code: 'E1', message: 'step s1 failed', step: 's1', details: { x: true } },
            output: { partial: true },
          },
        },
      ]),
    );
    const body = await delivered(id, 'FAILED');
    const view = await graphqlView(id);
    expect(Object.keys(body ?? {}).sort()).toEqual(Object.keys(view).sort());
    expect(body).toEqual(view);
    expect(view.steps).toHaveLength(2); // the comparison covered nested values, not only nulls
    expect(view.error).toMatchObject({ code: 'E1', step: 's1', details: { x: true } });
  });

  it('carries what a client status change committed (steps closed, error set), as its waiter gets it', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-mark', tags: [{ key: 'team', value: 'ops' }] });
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'open', name: 'Open', status: 'RUNNING' } },
        { step: { stepId: 'done', status: 'COMPLETED' } },
      ]),
    );
    const waiting = s.gql<{ waitForExecution: { completed: boolean; execution: Record<string, unknown> } }>(
      `query($id: ID!) { waitForExecution(id: $id, timeout: 20) { completed execution { ${selection} } } }`,
      { id },
    );
    await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(1);
    const errorInfo = { message: 'stuck', code: 'OPS', details: { zeta: 1, alpha: [1, { b: 2, a: 1 }] } };
    ok(await s.gql(UPDATE_STATUS, { id, status: 'FAILED', errorInfo }));
    const body = await delivered(id, 'FAILED');
    const view = await graphqlView(id);
    // The waiter and the webhook are handed the row the change wrote, not a read of it: the same as a read.
    expect(body).toEqual(view);
    const waited = ok(await waiting).waitForExecution;
    expect(waited.completed).toBe(true);
    expect(waited.execution).toEqual(view);
    expect(view).toMatchObject({ status: 'FAILED', error: { code: 'OPS', message: 'stuck', details: errorInfo } });
    expect(view.steps).toMatchObject([
      { id: 'open', status: 'CANCELLED', completedAt: view.completedAt },
      { id: 'done', status: 'COMPLETED' },
    ]);
  });

  it('carries the same shape with every optional value absent', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-bare' });
    ok(await s.gql(COMPLETE, { id }));
    const body = await delivered(id, 'COMPLETED');
    expect(body).toEqual(await graphqlView(id));
  });
});
