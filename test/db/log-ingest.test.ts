import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionLogs, executions } from '../../src/db/schema.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const line = (text: string, extra: Record<string, unknown> = {}) => ({ log: { text, ...extra } });

describe.each(DB_KINDS)('stored log lines on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const linesOf = (id: string) =>
    s.database.db.select().from(executionLogs).where(eq(executionLogs.executionId, id)).orderBy(executionLogs.sequence);

  it('stores each line with its stream, level and times as sent (defaults filled in by the database)', async () => {
    const { id } = await createExecution(s);
    const at = '2026-12-05T21:00:00.123Z';
    ok(
      await record(s, id, [
        line('plain "quoted" \\ back\\slash {braces},commas\n'),
        line('err', { stream: 'stderr', level: 'ERROR' }),
        { ...line('then', { stream: 'stdout', level: 'INFO' }), occurredAt: at },
        line(''),
      ]),
    );
    const rows = await linesOf(id);
    const [execution] = await s.database.db.select().from(executions).where(eq(executions.id, id));
    const recorded = rows[0]?.recordedAt.getTime();
    expect(rows.map((r) => [r.sequence, r.stream, r.level, r.text])).toEqual([
      [1, 'stdout', null, 'plain "quoted" \\ back\\slash {braces},commas\n'],
      [2, 'stderr', 'ERROR', 'err'],
      [3, 'stdout', 'INFO', 'then'],
      [4, 'stdout', null, ''],
    ]);
    // One batch, one time of recording; a line without occurredAt occurred then.
    expect(rows.every((r) => r.recordedAt.getTime() === recorded)).toBe(true);
    expect(rows.map((r) => r.occurredAt.getTime())).toEqual([recorded, recorded, Date.parse(at), recorded]);
    expect(execution?.updatedAt.getTime()).toBe(recorded);
  });

  it('deletes an execution’s lines with it, and no other execution’s', async () => {
    const gone = await createExecution(s);
    const kept = await createExecution(s);
    for (const { id } of [gone, kept]) ok(await record(s, id, [line('a'), { progress: { percentage: 1 } }, line('b')]));
    await s.database.db.delete(executions).where(inArray(executions.id, [gone.id]));
    expect(await linesOf(gone.id)).toEqual([]);
    expect((await linesOf(kept.id)).map((r) => r.text)).toEqual(['a', 'b']);
    const [left] = await s.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(executionLogs)
      .where(eq(executionLogs.executionId, gone.id));
    expect(left?.n).toBe(0);
  });
});
