import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { openPrincipal } from '../../src/domain/access.js';
import type { DomainContext } from '../../src/domain/context.js';
import { readEvents } from '../../src/domain/events.js';
import { createExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { copyOf, keepCopy } from '../../src/domain/record-copies.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';
import { countingReserves } from '../support/reserves.js';

// Two instances writing the same executions: each has its own queue and its own copies of the rows (on PostgreSQL its
// own pool too), so each one's copy goes out of date whenever the other writes.
describe.each(DB_KINDS)('recordEvents from a copy of the row on %s', (kind) => {
  const databases: Database[] = [];
  let one: DomainContext;
  let two: DomainContext;
  const principal = openPrincipal();
  beforeAll(async () => {
    if (kind === 'postgres') {
      const url = await newDatabaseUrl();
      databases.push(await openDatabase({ databaseUrl: url, poolSize: 4 }));
      databases.push(await openDatabase({ databaseUrl: url, poolSize: 4 }));
    } else {
      databases.push(await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) }));
    }
    const context = (database: Database): DomainContext => ({
      db: database.db,
      sink: { changed: () => {} },
      now: () => new Date(),
      hooks: [],
    });
    one = context(databases[0] as Database);
    two = context((databases[1] ?? databases[0]) as Database);
  });
  afterAll(() => Promise.all(databases.map((d) => d.close())));

  const progress = (step: string) => [{ progress: { step, percentage: 1 } }];
  const xminOf = async (id: string) => {
    const rows = await one.db.execute(sql`select xmin::text as xmin from executions where id = ${id}`);
    const list = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as { xmin: string }[];
    return list[0]?.xmin;
  };

  it('keeps the row it committed, and writes the next batch from it without reading the row', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, progress('a'));
    const copy = copyOf(one, id);
    expect(copy?.row.lastSequence).toBe(1);
    expect(copy?.xmin).toBe(await xminOf(id));
    // A column the guard does not compare, changed in the copy only: the write from the copy carries it to the row,
    // which it would not if the row had been read.
    keepCopy(one, { ...(copy?.row as NonNullable<typeof copy>['row']), logBytes: 7 }, copy?.xmin as string);
    const { execution, events } = await recordEvents(one, principal, id, progress('b'));
    expect(events.map((e) => e.sequence)).toEqual([2]);
    expect(execution.logBytes).toBe(7);
    expect(copyOf(one, id)?.xmin).toBe(await xminOf(id));
  });

  it('writes a batch from the copy as one statement: its events and log lines, no transaction reserved', async () => {
    const { db, reserves } = countingReserves(one.db);
    const counted = { ...one, db };
    const { id } = await createExecution(counted, principal, { workflowId: 'c' });
    await recordEvents(counted, principal, id, progress('a')); // under the lock: it keeps the copy
    const before = reserves();
    const { execution, events } = await recordEvents(counted, principal, id, [
      { progress: { step: 'b', percentage: 50 } },
      { log: { text: 'copied 1000 rows\n' } },
      { log: { text: 'disk full\n', stream: 'stderr' } },
    ]);
    expect(reserves() - before).toBe(0);
    expect(events.map((e) => [e.sequence, e.type])).toEqual([
      [2, 'PROGRESS'],
      [3, 'LOG'],
      [4, 'LOG'],
    ]);
    expect(execution).toMatchObject({ lastSequence: 4, progress: { step: 'b', percentage: 50 } });
    expect((await readEvents(one.db, id, 0, 10)).map((e) => e.type)).toEqual(['PROGRESS', 'PROGRESS', 'LOG', 'LOG']);
    const logs = await one.db.execute(sql`select sequence, stream, text from execution_logs where execution_id = ${id}
      order by sequence`);
    expect(Array.isArray(logs) ? logs : (logs as { rows: unknown[] }).rows).toEqual([
      { sequence: 3, stream: 'stdout', text: 'copied 1000 rows\n' },
      { sequence: 4, stream: 'stderr', text: 'disk full\n' },
    ]);
    expect(copyOf(counted, id)?.xmin).toBe(await xminOf(id));
    // Log lines alone, and events alone, the same way.
    await recordEvents(counted, principal, id, [{ log: { text: 'done\n' } }]);
    await recordEvents(counted, principal, id, progress('c'));
    expect(reserves() - before).toBe(0);
    expect((await readEvents(one.db, id, 4, 10)).map((e) => [e.sequence, e.type])).toEqual([
      [5, 'LOG'],
      [6, 'PROGRESS'],
    ]);
  });

  it('fails the guard when another instance wrote the row, and writes under the lock with the next sequence', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, progress('a'));
    await recordEvents(two, principal, id, progress('b'));
    const stale = copyOf(one, id);
    expect(stale?.row.lastSequence).toBe(1);
    const { execution, events } = await recordEvents(one, principal, id, progress('c'));
    expect(events.map((e) => e.sequence)).toEqual([3]);
    expect(execution.lastSequence).toBe(3);
    expect((await readEvents(one.db, id, 0, 10)).map((e) => [e.sequence, e.payload.step])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    expect(copyOf(one, id)?.xmin).toBe(await xminOf(id));
  });

  it('does not write from a copy of a row changed by a write that appended no event', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, progress('a'));
    // Status and sequence stay as the copy has them: only the guard on the row's version can see this write.
    await one.db.execute(sql`update executions set tags = '{"by": "another writer"}'::jsonb where id = ${id}`);
    const { execution } = await recordEvents(one, principal, id, progress('b'));
    expect(execution.tags).toEqual({ by: 'another writer' });
    const rows = await one.db.execute(sql`select tags from executions where id = ${id}`);
    const list = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as { tags: unknown }[];
    expect(list[0]?.tags).toEqual({ by: 'another writer' });
  });

  const report = (messageId: string, status: string) => ({ message: { messageId, status } });
  /** The message counters as stored: total, completed, failed, in progress. */
  const countersOf = async (id: string) => {
    const rows = await one.db.execute(sql`select total_messages, completed_messages, failed_messages,
      in_progress_messages from executions where id = ${id}`);
    const [row] = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as Record<string, number>[];
    return row && [row.total_messages, row.completed_messages, row.failed_messages, row.in_progress_messages];
  };

  it('writes message reports of several executions from their copies, each copy knowing its messages', async () => {
    const { db, reserves } = countingReserves(one.db);
    const counted = { ...one, db };
    const [x, y] = await Promise.all([
      createExecution(counted, principal, { workflowId: 'c' }),
      createExecution(counted, principal, { workflowId: 'c' }),
    ]);
    for (const { id } of [x, y]) await recordEvents(counted, principal, id, progress('a')); // the copies
    const before = reserves();
    // At once: the first goes alone, the others queue and go together in one statement. The same message id in two
    // executions is two messages.
    await Promise.all([
      recordEvents(counted, principal, x.id, [report('m1', 'INITIATED')]),
      recordEvents(counted, principal, y.id, [report('m1', 'INITIATED')]),
      recordEvents(counted, principal, x.id, [report('m2', 'INITIATED'), report('m1', 'PROCESSING')]),
    ]);
    expect(copyOf(counted, x.id)?.messages).toEqual(
      new Map([
        ['m1', { status: 'PROCESSING', counted: true }],
        ['m2', { status: 'INITIATED', counted: true }],
      ]),
    );
    // Ends of messages the copies know: counted as ends of those reported, a repeat counting nothing.
    const [ended] = await Promise.all([
      recordEvents(counted, principal, x.id, [report('m1', 'COMPLETED'), report('m2', 'FAILED')]),
      recordEvents(counted, principal, y.id, [report('m1', 'COMPLETED'), report('m1', 'COMPLETED')]),
    ]);
    expect(reserves() - before).toBe(0);
    expect(ended.execution).toMatchObject({ totalMessages: 2, completedMessages: 1, failedMessages: 1 });
    expect(await countersOf(x.id)).toEqual([2, 1, 1, 0]);
    expect(await countersOf(y.id)).toEqual([1, 1, 0, 0]);
    expect((await readEvents(one.db, y.id, 0, 10)).map((e) => [e.sequence, e.type])).toEqual([
      [1, 'PROGRESS'],
      [2, 'MESSAGE'],
      [3, 'MESSAGE'],
      [4, 'MESSAGE'],
    ]);
    expect(copyOf(counted, x.id)?.xmin).toBe(await xminOf(x.id));
  });

  it('writes under the lock a report of a message its copy does not know but which was reported', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, [report('m', 'INITIATED')]);
    // Instance two's copy is the row as it is now, and knows no message: its write had none.
    const { db, reserves } = countingReserves(two.db);
    const counted = { ...two, db };
    await recordEvents(counted, principal, id, progress('b'));
    expect(copyOf(counted, id)?.messages.size).toBe(0);
    const before = reserves();
    const { execution } = await recordEvents(counted, principal, id, [report('m', 'COMPLETED')]);
    // Counted as the end of the message initiated before, not as a new one.
    expect(execution).toMatchObject({ totalMessages: 1, completedMessages: 1, inProgressMessages: 0 });
    expect(await countersOf(id)).toEqual([1, 1, 0, 0]);
    if (kind === 'postgres') expect(reserves() - before).toBe(1); // the check failed: the write went under the lock
    expect(copyOf(counted, id)?.messages.get('m')).toEqual({ status: 'COMPLETED', counted: true });
  });

  it('keeps the latest 256 messages per copy; an older one is checked, then read under the lock', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, [report('first', 'INITIATED')]);
    const others = Array.from({ length: 300 }, (_, i) => report(`m${i}`, 'INITIATED'));
    await recordEvents(one, principal, id, others);
    const copy = copyOf(one, id);
    expect(copy?.messages.size).toBe(256);
    expect(copy?.messages.has('first')).toBe(false);
    expect(copy?.messages.has('m299')).toBe(true);
    const { execution } = await recordEvents(one, principal, id, [report('first', 'COMPLETED')]);
    expect(execution).toMatchObject({ totalMessages: 301, completedMessages: 1, inProgressMessages: 300 });
    expect(await countersOf(id)).toEqual([301, 1, 0, 300]);
  });

  it('lets one of two writers from the same copy win; the other writes after it', async () => {
    const { id } = await createExecution(one, principal, { workflowId: 'c' });
    await recordEvents(one, principal, id, progress('a'));
    keepCopy(two, copyOf(one, id)?.row as never, copyOf(one, id)?.xmin as string);
    const [a, b] = await Promise.all([
      recordEvents(one, principal, id, progress('b')),
      recordEvents(two, principal, id, progress('c')),
    ]);
    expect([a.events[0]?.sequence, b.events[0]?.sequence].sort()).toEqual([2, 3]);
    const events = await readEvents(one.db, id, 0, 10);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.payload.step).sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps order, no gap and each call once while two instances write the same executions at once', async () => {
    const ids = (
      await Promise.all(Array.from({ length: 2 }, () => createExecution(one, principal, { workflowId: 'c' })))
    ).map((e) => e.id);
    const rounds = 40;
    const got = new Map<string, number>(); // step → the sequence its call was answered with
    for (let round = 0; round < rounds; round++) {
      // Each round both instances write both executions at once; within an instance, calls keep their order.
      const calls = ids.flatMap((id, n) =>
        [one, two].map(async (ctx, k) => {
          const step = `${round}/${n}/${k}`;
          const { events } = await recordEvents(ctx, principal, id, progress(step));
          got.set(step, events[0]?.sequence as number);
        }),
      );
      await Promise.all(calls);
    }
    for (const [n, id] of ids.entries()) {
      const events = await readEvents(one.db, id, 0, 10_000);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 1));
      for (const e of events) expect(got.get(String(e.payload.step))).toBe(e.sequence);
      const steps = events.map((e) => String(e.payload.step)).filter((s) => s.split('/')[1] === String(n));
      expect(new Set(steps).size).toBe(rounds * 2);
    }
  });
});
