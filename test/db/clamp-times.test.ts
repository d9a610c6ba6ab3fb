import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, migrationsFolder, openDatabase } from '../../src/db/client.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

/** Rows of a raw statement on either driver. */
const rows = <T>(r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as T[];

// drizzle/0003_clamp_times.sql: executions written before API.md §1 "Time and open steps" get clamped times.
const statements = readFileSync(join(migrationsFolder, '0003_clamp_times.sql'), 'utf8').split(
  '--> statement-breakpoint',
);

describe.each(DB_KINDS)('the 0003_clamp_times migration on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl() })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
  });
  afterAll(() => database?.close());

  it('moves startedAt into [createdAt, now] and completedAt after the start, leaving good rows alone', async () => {
    const insert = (id: string, created: string, started: string | null, completed: string | null) =>
      database.db.execute(sql`insert into executions (id, organization_id, environment, workflow_id, status, trigger,
        created_at, started_at, completed_at, updated_at, root_execution_id)
        values (${id}, 'default', 'test', 'wf', 'COMPLETED', '{"type":"manual"}', ${created}, ${started}, ${completed}, ${created}, ${id})`);
    const id = (n: number) => `01900000-0000-7000-8000-00000000000${n}`;
    await insert(id(1), '2026-01-01T10:00:00Z', '2026-01-01T09:59:00Z', '2026-01-01T10:00:30Z'); // started early
    await insert(id(2), '2026-01-01T10:00:00Z', '2026-01-01T10:00:20Z', '2026-01-01T10:00:05Z'); // ended before start
    await insert(id(3), '2026-01-01T10:00:00Z', null, '2026-01-01T09:00:00Z'); // ended before it existed
    await insert(id(4), '2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z', '2026-01-01T10:00:31Z'); // fine
    await insert(id(5), '2026-01-01T10:00:00Z', '2099-01-01T00:00:00Z', '2099-01-01T00:00:30Z'); // future
    // as the migrator runs it: in one transaction, so now() is one time
    await database.db.transaction(async (tx) => {
      for (const statement of statements) await tx.execute(sql.raw(statement));
    });
    const after = rows<{ id: string; started: string | null; completed: string | null; ms: number }>(
      await database.db.execute(sql`select id, to_char(started_at at time zone 'UTC', 'HH24:MI:SS') as started,
        to_char(completed_at at time zone 'UTC', 'HH24:MI:SS') as completed,
        extract(epoch from completed_at - coalesce(started_at, created_at)) * 1000 as ms
        from executions order by id`),
    );
    expect(after.slice(0, 4).map((r) => [r.started, r.completed, Number(r.ms)])).toEqual([
      ['10:00:00', '10:00:30', 30_000],
      ['10:00:20', '10:00:20', 0],
      [null, '10:00:00', 0],
      ['10:00:01', '10:00:31', 30_000],
    ]);
    const future = rows<{ late: boolean; ms: number }>(
      await database.db.execute(sql`select started_at > now() or completed_at > now() as late,
        extract(epoch from completed_at - started_at) * 1000 as ms from executions where id = ${id(5)}`),
    );
    expect(future.map((r) => [r.late, Number(r.ms)])).toEqual([[false, 0]]);
  });
});
