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
