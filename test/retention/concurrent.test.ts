import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/client.js';
import { type Deleted, deleteDue } from '../../src/domain/retention.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { finished, future, kept } from './support.js';

/**
 * Two passes over the same backlog at once, in small batches with no pause, so that their claims interleave: on
 * PostgreSQL two instances' connection pools on one database, on PGlite (one instance per data directory) two passes
 * of one instance, whose transactions take turns on its one connection. Between them every due tree is deleted once:
 * their counts add up exactly, neither throws (no deadlock, no serialization or unique-key error).
 */
describe.each(DB_KINDS)('two retention passes at once (%s)', (kind) => {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    const first = await startTestServer(kind, { env: { VIGIL_RETENTION_DAYS: '0' } }); // the job off: the test drives
    servers.push(first);
    if (kind === 'postgres') {
      servers.push(
        await startTestServer(kind, {
          env: { VIGIL_RETENTION_DAYS: '0' },
          databaseUrl: first.databaseUrl as string,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('deletes each due tree once between them, without an error', { timeout: 60_000 }, async () => {
    const s = servers[0] as TestServer;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const root = await finished(s, { workflowId: 'concurrent' });
      const child = await finished(s, { workflowId: 'concurrent', parentExecutionId: root.id });
      ids.push(root.id, child.id);
    }
    const dbs: Executor[] = servers.map((x) => x.database.db);
    if (dbs.length === 1) dbs.push(dbs[0] as Executor);
    const batches: Deleted[][] = [[], []];
    const totals = await Promise.all(
      dbs.map((db, i) =>
        deleteDue(
          db,
          { cutoff: future(), workflowId: 'concurrent' },
          { batch: 3, onBatch: (d) => batches[i]?.push({ ...d }), pause: async () => {} },
        ),
      ),
    );
    expect(totals.reduce((a, t) => a + t.executions, 0)).toBe(60);
    expect(totals.reduce((a, t) => a + t.events, 0)).toBe(60 * 3);
    // What each pass reported batch by batch is what it deleted, and no batch went over its bound.
    for (const [i, t] of totals.entries()) {
      expect(batches[i]?.reduce((a, d) => a + d.executions, 0)).toBe(t.executions);
      for (const d of batches[i] ?? []) expect(d.executions).toBeLessThanOrEqual(6); // 3 trees of 2
    }
    expect(await kept(s, ids)).toEqual([]);
  });
});
