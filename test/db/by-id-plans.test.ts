import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { openPrincipal } from '../../src/domain/access.js';
import type { DomainContext } from '../../src/domain/context.js';
import { findExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { executionsByIds } from '../../src/domain/relatives.js';
import { updateStatusByClient } from '../../src/domain/transitions.js';
import { planWait, readWaitTargets } from '../../src/domain/wait-many.js';
import { newDatabaseUrl } from '../support/harness.js';

/**
 * A fresh install, or a burst of runs since the last ANALYZE: PostgreSQL 18 can serve a lookup of one execution by id
 * and tenant with a skip scan over an index that leads with the tenant and ends with the id (`executions_workflow_idx`),
 * which reads the tenant's whole index range (`ownedBy` in domain/tenant.ts). The reads and status changes of one
 * execution name its primary key alone; this holds them to it on a table of 5,000 runs never analyzed, counting the
 * scans of each index in `pg_stat_user_indexes`. PostgreSQL only: PGlite is PostgreSQL 17, which has no skip scan.
 */
describe('one execution is read and changed through its primary key, whatever the statistics', () => {
  let database: Database;
  let ctx: DomainContext;
  const principal = openPrincipal();
  const ids: string[] = [];
  const sql = () => {
    if (database.notifier.kind !== 'postgres') throw new Error('PostgreSQL only');
    return database.notifier.sql;
  };
  beforeAll(async () => {
    database = await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 2 });
    ctx = { db: database.db, sink: { changed: () => {} }, now: () => new Date(), hooks: [] };
    // Never analyzed while the test runs (the server's autovacuum would, within its minute).
    await sql()`alter table executions set (autovacuum_enabled = false)`;
    const rows = await sql()`insert into executions (id, organization_id, environment, workflow_id, trigger,
        root_execution_id, created_at, updated_at)
      select g.id, ${principal.organizationId}, ${principal.environment}, 'nightly-' || (g.i % 7), '{"type":"manual"}',
        g.id, now() - g.i * interval '1 second', now()
      from (select gen_random_uuid() as id, i from generate_series(1, 5000) i) g
      returning id`;
    ids.push(...rows.map((r) => String(r.id)));
  }, 60_000);
  afterAll(() => database?.close());

  const scans = async () =>
    Object.fromEntries(
      (
        await sql()`select indexrelname as name, idx_scan::int as n from pg_stat_user_indexes
          where relname = 'executions'`
      ).map((r) => [String(r.name), Number(r.n)]),
    ) as Record<string, number>;

  it('reads, waits on, ends by a client and ends by a worker report through executions_pkey alone', async () => {
    const [stats] = await sql()`select reltuples from pg_class where relname = 'executions'`;
    expect(Number(stats?.reltuples)).toBe(-1); // never analyzed
    const before = await scans();
    for (const id of ids.slice(0, 10)) expect((await findExecution(ctx.db, principal, id))?.id).toBe(id);
    for (const id of ids.slice(10, 20)) await updateStatusByClient(ctx, principal, id, 'CANCELLED');
    for (const id of ids.slice(20, 30))
      await recordEvents(ctx, principal, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const wanted = ids.slice(30, 40);
    expect((await readWaitTargets(ctx.db, principal, planWait({ ids: wanted }))).map((e) => e.id).sort()).toEqual(
      [...wanted].sort(),
    );
    expect((await executionsByIds(ctx.db, principal, wanted)).map((e) => e?.id)).toEqual(wanted);
    // Another tenant's ids are not found, though their rows are read by the same key.
    const live = openPrincipal('live');
    expect(await findExecution(ctx.db, live, ids[0] as string)).toBeNull();
    expect(await executionsByIds(ctx.db, live, wanted)).toEqual(wanted.map(() => null));
    await expect(readWaitTargets(ctx.db, live, planWait({ ids: wanted }))).rejects.toMatchObject({
      code: 'EXECUTION_NOT_FOUND',
    });
    // Each backend reports its counts once idle (at most about a second later).
    let after = await scans();
    for (let i = 0; i < 50 && (after.executions_pkey ?? 0) - (before.executions_pkey ?? 0) < 33; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scans();
    }
    expect((after.executions_pkey ?? 0) - (before.executions_pkey ?? 0)).toBeGreaterThanOrEqual(33);
    for (const name of ['executions_workflow_idx', 'executions_tenant_created_idx', 'executions_root_idx']) {
      expect({ name, scans: (after[name] ?? 0) - (before[name] ?? 0) }).toEqual({ name, scans: 0 });
    }
  });
});
