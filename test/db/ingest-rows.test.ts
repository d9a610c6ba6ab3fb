import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionEvents, executionMessages, executions } from '../../src/db/schema.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const msg = (messageId: string, status: string) => ({ message: { messageId, status } });

/** The rows a worker batch stores besides log lines: events and message lineage (`domain/record.ts`). */
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
  const lineageOf = async (id: string) =>
    (
      await s.database.db
        .select()
        .from(executionMessages)
        .where(eq(executionMessages.executionId, id))
        .orderBy(executionMessages.messageId)
    ).map((m) => [m.messageId, m.status, m.counted]);

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

  it('keeps each message’s last status across batches, inserted once and then updated', async () => {
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
    const [row] = await s.database.db.select().from(executions).where(eq(executions.id, id));
    expect([row?.totalMessages, row?.completedMessages, row?.failedMessages, row?.inProgressMessages]).toEqual([
      4, 3, 1, 0,
    ]);
  });

  it('deletes an execution’s events and message lineage with it, and no other execution’s', async () => {
    const gone = await createExecution(s);
    const kept = await createExecution(s);
    for (const { id } of [gone, kept])
      ok(await record(s, id, [msg('m', 'INITIATED'), { progress: { percentage: 1 } }]));
    await s.database.db.delete(executions).where(inArray(executions.id, [gone.id]));
    const count = async (table: typeof executionEvents | typeof executionMessages, id: string) =>
      (await s.database.db.select({ n: sql<number>`count(*)::int` }).from(table).where(eq(table.executionId, id)))[0]
        ?.n;
    expect([await count(executionEvents, gone.id), await count(executionMessages, gone.id)]).toEqual([0, 0]);
    expect([await count(executionEvents, kept.id), await count(executionMessages, kept.id)]).toEqual([2, 1]);
  });
});
