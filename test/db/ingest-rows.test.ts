import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlState } from '../../src/db/pipeline.js';
import { executionEvents, executions } from '../../src/db/schema.js';
import { type Bound, runBound } from '../../src/db/statement-cache.js';
import { messageOf, readMessages, rowsOfBatch, unreportedMessages } from '../../src/domain/record-rows.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const msg = (messageId: string, status: string) => ({ message: { messageId, status } });

/**
 * The rows a worker batch stores besides log lines: events, and the message lineage read from them
 * (`domain/record.ts`, `record-rows.ts`).
 */
describe.each(DB_KINDS)('stored events and message lineage on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const eventsOf = (id: string) =>
    s.database.db
      .select()
      .from(executionEvents)
      .where(eq(executionEvents.executionId, id))
      .orderBy(executionEvents.sequence);
  /** Each message's state as a batch reads it (the statement `record.ts` runs), by message id. */
  const lineageOf = async (id: string, messageIds = ['a', 'b', 'c', 'd']) =>
    (await runBound(s.database.db, readMessages(rowsOfBatch([id]), messageIds)))
      .map(messageOf)
      .sort((x, y) => x.messageId.localeCompare(y.messageId))
      .map((m) => [m.messageId, m.status, m.counted]);
  /**
   * The plan of a statement a batch runs, as bound. Seq scans off: on a test's few rows a scan may be cheaper; the
   * question is whether the index serves the statement.
   */
  const planOf = async (bound: Bound) => {
    const explained = { ...bound, query: { ...bound.query, sql: `explain ${bound.query.sql}` } };
    const plan = await s.database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return runBound(tx, explained);
    });
    return plan.map((r) => Object.values(r)[0]).join('\n');
  };
  const countersOf = async (id: string) => {
    const [row] = await s.database.db.select().from(executions).where(eq(executions.id, id));
    return [row?.totalMessages, row?.completedMessages, row?.failedMessages, row?.inProgressMessages];
  };

  it('stores each event with its execution, type, payload and times as sent', async () => {
    const { id } = await createExecution(s);
    const other = await createExecution(s);
    const at = '2026-12-05T21:00:00.123Z';
    const [mine, theirs] = await Promise.all([
      record(s, id, [msg('a "quoted" \\ {x},y', 'INITIATED'), { progress: { percentage: 5 }, occurredAt: at }]),
      record(s, other.id, [msg('b', 'INITIATED')]),
    ]);
    ok(mine);
    ok(theirs);
    const rows = await eventsOf(id);
    expect(rows.map((r) => [r.sequence, r.type, r.payload])).toEqual([
      [1, 'MESSAGE', { messageId: 'a "quoted" \\ {x},y', status: 'INITIATED' }],
      [2, 'PROGRESS', { percentage: 5, step: null }],
    ]);
    const recorded = rows[0]?.recordedAt.getTime();
    expect(rows.every((r) => r.recordedAt.getTime() === recorded)).toBe(true);
    expect(rows.map((r) => r.occurredAt.getTime())).toEqual([recorded, Date.parse(at)]);
    expect((await eventsOf(other.id)).map((r) => [r.executionId, r.type])).toEqual([[other.id, 'MESSAGE']]);
  });

  it('reads each message’s state across batches from its events', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [msg('a', 'INITIATED'), msg('b', 'INITIATED')]));
    expect(await lineageOf(id)).toEqual([
      ['a', 'INITIATED', true],
      ['b', 'INITIATED', true],
    ]);
    // A known message updated and a new one added in one batch; then, concurrently, one known and one new again.
    ok(await record(s, id, [msg('a', 'COMPLETED'), msg('c', 'INITIATED')]));
    const both = await Promise.all([record(s, id, [msg('b', 'FAILED')]), record(s, id, [msg('d', 'COMPLETED')])]);
    for (const r of both) ok(r);
    expect(await lineageOf(id)).toEqual([
      ['a', 'COMPLETED', true],
      ['b', 'FAILED', true],
      ['c', 'INITIATED', true],
      ['d', 'COMPLETED', true],
    ]);
    // Reported again: still counted once each.
    const again = ok(await record(s, id, [msg('a', 'COMPLETED'), msg('d', 'COMPLETED'), msg('c', 'COMPLETED')])) as {
      recordExecutionEvents: { execution: { lastSequence: number } };
    };
    expect(again.recordExecutionEvents.execution.lastSequence).toBe(9);
    expect(await countersOf(id)).toEqual([4, 3, 1, 0]);
    // Another execution's messages of the same ids are its own.
    const other = await createExecution(s);
    ok(await record(s, other.id, [msg('a', 'INITIATED')]));
    expect(await lineageOf(other.id)).toEqual([['a', 'INITIATED', true]]);
    expect(await countersOf(other.id)).toEqual([1, 0, 0, 1]);
  });

  it('folds a message’s reports in order: the first end wins, reports after it count nothing', async () => {
    const { id } = await createExecution(s);
    // b: processing before it was initiated, then initiated (counted once), then ended twice in one batch.
    ok(await record(s, id, [msg('b', 'PROCESSING'), msg('a', 'INITIATED')]));
    expect(await lineageOf(id)).toEqual([
      ['a', 'INITIATED', true],
      ['b', 'PROCESSING', false],
    ]);
    ok(await record(s, id, [msg('b', 'INITIATED'), msg('a', 'PROCESSING'), msg('a', 'INITIATED')]));
    expect(await lineageOf(id)).toEqual([
      ['a', 'PROCESSING', true],
      ['b', 'INITIATED', true],
    ]);
    ok(await record(s, id, [msg('b', 'FAILED'), msg('b', 'COMPLETED')]));
    ok(await record(s, id, [msg('a', 'COMPLETED'), msg('b', 'INITIATED')]));
    expect(await lineageOf(id)).toEqual([
      ['a', 'COMPLETED', true],
      ['b', 'FAILED', true],
    ]);
    expect(await countersOf(id)).toEqual([2, 1, 1, 0]);
  });

  it('finds a message’s reports through the lineage index, not by reading the execution’s events', async () => {
    const { id } = await createExecution(s);
    const text = await planOf(readMessages(rowsOfBatch([id]), ['a', 'b']));
    expect(text).toContain('execution_events_message_idx');
    // The message id is a condition of the index's descent, not a filter on every event of the execution.
    expect(text).toMatch(/Index Cond: .*messageId/);
  });

  it('checks that messages a batch from copies does not know were never reported in their own execution', async () => {
    // The check `record.ts` sends with a batch written from its copies of the rows (`record-copies.ts`).
    const a = await createExecution(s);
    const b = await createExecution(s);
    ok(await record(s, a.id, [msg('1', 'INITIATED'), msg('x "y" \\ {z}', 'INITIATED')]));
    const batch = rowsOfBatch([a.id, b.id]);
    const check = (pairs: [string, string][]) =>
      runBound(
        s.database.db,
        unreportedMessages(
          pairs.map(([id, messageId]) => ({ row: batch.index(id), messageId })),
          batch,
        ),
      );
    // '1' was reported in a, not in b: the same id in another execution is another message.
    expect(await check([[b.id, '1']])).toEqual([{ fresh: 1 }]);
    expect(
      await check([
        [b.id, '2'],
        [a.id, '2'],
      ]),
    ).toEqual([{ fresh: 1 }]);
    expect(await check([])).toEqual([{ fresh: 1 }]);
    for (const reported of [
      [[a.id, '1']],
      [
        [b.id, '1'],
        [a.id, '1'],
      ],
      [[a.id, 'x "y" \\ {z}']],
    ] as [string, string][][]) {
      // 22012: division by zero, which aborts the batch's statement
      expect(await check(reported).then(() => 'passed', sqlState)).toBe('22012');
    }
  });

  it('makes that check through the lineage index', async () => {
    const { id } = await createExecution(s);
    const text = await planOf(unreportedMessages([{ row: 1, messageId: 'a' }], rowsOfBatch([id])));
    expect(text).toContain('execution_events_message_idx');
    expect(text).toMatch(/Index Cond: .*messageId/);
    // No join for a prepared statement's kept plan to get wrong as the table grows: one scan of the index.
    expect(text).not.toMatch(/Join|Nested Loop/);
  });

  it('deletes an execution’s events (its message lineage with them) with it, and no other execution’s', async () => {
    const gone = await createExecution(s);
    const kept = await createExecution(s);
    for (const { id } of [gone, kept])
      ok(await record(s, id, [msg('m', 'INITIATED'), { progress: { percentage: 1 } }]));
    await s.database.db.delete(executions).where(inArray(executions.id, [gone.id]));
    const count = async (id: string) =>
      (
        await s.database.db
          .select({ n: sql<number>`count(*)::int` })
          .from(executionEvents)
          .where(eq(executionEvents.executionId, id))
      )[0]?.n;
    expect([await count(gone.id), await lineageOf(gone.id, ['m'])]).toEqual([0, []]);
    expect([await count(kept.id), await lineageOf(kept.id, ['m'])]).toEqual([2, [['m', 'INITIATED', true]]]);
  });
});
