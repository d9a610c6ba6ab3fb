import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createWebhook, deliveries, eventually, startHookServer } from '../webhooks/support.js';
import { metric, read } from './support.js';

/** Tables that hold nothing of any one execution. A new table must be put here or in `ofExecution` below. */
const UNRELATED = ['api_keys', 'change_feed_state', 'execution_change_marks', 'webhooks'];

/** For every table that holds something of an execution: how many of its rows belong to `id`. */
const ofExecution: Record<string, (id: string, deliveryIds: string[]) => ReturnType<typeof sql>> = {
  executions: (id) =>
    sql`select count(*)::int as n from executions where ${id}::uuid in (id, root_execution_id, parent_execution_id)`,
  execution_events: (id) => sql`select count(*)::int as n from execution_events where execution_id = ${id}::uuid`,
  execution_logs: (id) => sql`select count(*)::int as n from execution_logs where execution_id = ${id}::uuid`,
  execution_tags: (id) => sql`select count(*)::int as n from execution_tags where execution_id = ${id}::uuid`,
  execution_changes: (id) => sql`select count(*)::int as n from execution_changes where execution_id = ${id}::uuid`,
  execution_batch_keys: (id) =>
    sql`select count(*)::int as n from execution_batch_keys where execution_id = ${id}::uuid`,
  webhook_deliveries: (id) => sql`select count(*)::int as n from webhook_deliveries where execution_id = ${id}::uuid`,
  webhook_attempts: (_id, deliveryIds) =>
    sql`select count(*)::int as n from webhook_attempts where delivery_id::text in (${sql.join(
      deliveryIds.map((d) => sql`${d}`),
      sql`, `,
    )})`,
};

const rowsOf = (result: unknown) =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];

/**
 * The job deletes everything of an execution: every table that refers to one is seeded for it, the job runs, and
 * every such table then has no row of it, while the same rows of a younger execution stay. A table added to the
 * schema fails the first test until it is listed here (and, if it refers to executions, deleted by retention).
 */
describe.each(DB_KINDS)('retention deletes everything of an execution (%s)', (kind) => {
  let s: TestServer;
  let receiver: Receiver;
  const counts = async (id: string, deliveryIds: string[]) => {
    const out: Record<string, number> = {};
    for (const [table, query] of Object.entries(ofExecution)) {
      out[table] = Number(rowsOf(await s.database.db.execute(query(id, deliveryIds)))[0]?.n);
    }
    return out;
  };
  beforeAll(async () => {
    receiver = await startReceiver();
    // Due 4 s after completion, looked for every 200 ms.
    s = await startHookServer(kind, {
      env: { VIGIL_RETENTION_DAYS: String(4 / 86_400), VIGIL_RETENTION_INTERVAL_MS: '200' },
    });
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it('knows every table of the schema', async () => {
    const tables = rowsOf(
      await s.database.db.execute(
        sql`select tablename::text as name from pg_tables where schemaname = 'public' order by 1`,
      ),
    ).map((r) => String(r.name));
    expect(tables).toEqual([...UNRELATED, ...Object.keys(ofExecution)].sort());
  });

  it('leaves no row of a deleted execution in any table', async () => {
    const hook = await createWebhook(s, { url: `${receiver.url}/hook`, events: ['execution.terminal'] });
    const seed = async (workflowId: string) => {
      const { id } = await createExecution(s, { workflowId, idempotencyKey: `key-${workflowId}` });
      ok(
        await record(s, id, [
          { statusChanged: { to: 'RUNNING' } },
          { tags: { set: [{ key: 'team', value: 'data' }] } },
          { message: { messageId: 'm1', status: 'INITIATED' } },
          { message: { messageId: 'm1', status: 'COMPLETED' } },
          { log: { text: 'hello' } },
          { step: { stepId: 's1', status: 'COMPLETED' } },
        ]),
      );
      // The last batch under an idempotency key, so the execution has a row in execution_batch_keys.
      ok(
        await s.gql(
          `mutation($id: ID!, $events: [ExecutionEventInput!]!, $key: String) {
            recordExecutionEvents(executionId: $id, events: $events, idempotencyKey: $key) { execution { status } }
          }`,
          { id, events: [{ statusChanged: { to: 'COMPLETED' } }], key: `batch-${workflowId}` },
        ),
      );
      const mine = await eventually(
        () => deliveries(s, hook.id),
        (all) => all.some((d) => d.executionId === id && d.attempts.length > 0),
      );
      return { id, deliveryIds: mine.filter((d) => d.executionId === id).map((d) => d.id) };
    };
    const old = await seed('tables-old');
    const before = await counts(old.id, old.deliveryIds);
    for (const [table, n] of Object.entries(before)) expect(n, `${table} seeded`).toBeGreaterThan(0);

    await new Promise((r) => setTimeout(r, 2000));
    const young = await seed('tables-young'); // completed 2 s later: still kept when the old one goes
    await eventually(
      () => read(s, old.id),
      (e) => e === null,
      8000,
    );
    const after = await counts(old.id, old.deliveryIds);
    expect(after).toEqual(Object.fromEntries(Object.keys(ofExecution).map((t) => [t, 0])));
    const youngCounts = await counts(young.id, young.deliveryIds);
    for (const [table, n] of Object.entries(youngCounts)) expect(n, `${table} of the younger one`).toBeGreaterThan(0);

    // Its idempotency key is free again: the same request creates a new execution.
    const again = await createExecution(s, { workflowId: 'tables-old', idempotencyKey: 'key-tables-old' });
    expect(again.id).not.toBe(old.id);
    expect(await metric(s, 'vigil_retention_deleted_executions_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(s, 'vigil_retention_deleted_events_total')).toBeGreaterThanOrEqual(7);
  });
});
