import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executions } from '../../src/db/schema.js';
import { createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';

/** The tables whose rows of an execution the database deletes with it (the delete triggers of 0010–0012). */
const TABLES = ['execution_events', 'execution_logs', 'execution_tags', 'execution_batch_keys'];

const rowsOf = (result: unknown) =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];

/**
 * Deleting executions, by any statement (retention's batch, `vigil purge`, an operator's SQL), deletes their events
 * (message lineage is read from them), log lines, tag index rows and batch idempotency keys in the same statement, and
 * nothing of another execution, though none of these tables has a foreign key to `executions` (migrations 0010, 0011,
 * 0012: statement triggers instead of per-row cascades). Webhook deliveries and the change log are deleted by retention itself
 * (`test/retention/tables.test.ts`).
 */
describe.each(DB_KINDS)('deleting executions deletes their rows on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const counts = async (ids: string[]) => {
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const [row] = rowsOf(
        await s.database.db.execute(
          sql`select count(*)::int as n from ${sql.identifier(table)}
            where execution_id::text in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`,
        ),
      );
      out[table] = Number(row?.n);
    }
    return out;
  };

  /** An execution with a row in every table above: two tags (one shared by all), a message, a log line, a key. */
  const seed = async (n: number) => {
    const { id } = await createExecution(s, {
      workflowId: 'deleted-rows',
      tags: [
        { key: 'team', value: 'data' },
        { key: 'run', value: `r${n}` },
      ],
    });
    ok(
      await s.gql(
        `mutation($id: ID!, $events: [ExecutionEventInput!]!, $key: String) {
          recordExecutionEvents(executionId: $id, events: $events, idempotencyKey: $key) { execution { lastSequence } }
        }`,
        {
          id,
          key: `batch-${n}`,
          events: [
            { statusChanged: { to: 'RUNNING' } },
            { message: { messageId: 'm1', status: 'INITIATED' } },
            { log: { text: `line ${n}` } },
            { step: { stepId: 's1', status: 'COMPLETED' } },
          ],
        },
      ),
    );
    return id;
  };

  it('in the deleting statement, one execution or many, and no row of another', async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(seed));
    const [one, two, three, kept] = ids as [string, string, string, string];
    const full = { ...Object.fromEntries(TABLES.map((t) => [t, 1])), execution_events: 3, execution_tags: 2 };
    for (const id of ids) expect(await counts([id]), id).toEqual(full);

    await s.database.db.delete(executions).where(inArray(executions.id, [one]));
    expect(await counts([one])).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
    await s.database.db.delete(executions).where(inArray(executions.id, [two, three]));
    expect(await counts([two, three])).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));

    expect(await counts([kept])).toEqual(full);
    // The kept execution is still found by the tag it shared with the deleted ones.
    const [byTag] = rowsOf(
      await s.database.db.execute(sql`select count(*)::int as n from execution_tags
        where key = 'team' and value = 'data' and execution_id::text in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`),
    );
    expect(Number(byTag?.n)).toBe(1);
  });
});
