import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/access.js';
import {
  changesQuery,
  feedStateStatement,
  type Position,
  readFeedState,
  tailQuery,
  tailStatement,
} from '../../src/domain/changes.js';
import { PAGE } from '../../src/feed/change-tail.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { analyzePrepared, query } from '../support/plans.js';

const BACKLOG = 100_000;
const tenant: Principal = {
  organizationId: 'default',
  environment: 'test',
  scopes: new Set(['executions:read']),
  keyId: null,
};

/**
 * The change rows every scan of execution_changes in an analyzed plan went through: those it returned and those its
 * filter removed, over all its loops.
 */
function changeRowsRead(text: string): number {
  let total = 0;
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const scan = /Scan[^\n]* on execution_changes\b[^\n]*actual[^\n]*? rows=([\d.]+)[^\n]*loops=(\d+)/.exec(line);
    if (!scan) continue;
    const loops = Number(scan[2]);
    total += Number(scan[1]) * loops;
    // The node's own detail lines follow it, up to the next node.
    for (const detail of lines.slice(i + 1)) {
      if (/->|InitPlan|SubPlan/.test(detail)) break;
      const removed = /Rows Removed by (?:Filter|Index Recheck): (\d+)/.exec(detail);
      if (removed) total += Number(removed[1]) * loops;
    }
  }
  return total;
}

/**
 * The change log's reads over a backlog (ARCHITECTURE.md "The change log"): the process's tail and a replay read a
 * page in position order from an index and stop there, and whether rows wait above the frontier is one step of the
 * primary key, so no read costs the size of the log. A tail that sorted every row below the frontier before its
 * limit (1.5 s a page at this size), or looked for held rows with a scan that found none (the whole log, on every
 * read while nothing is held), fails here.
 */
describe.each(DB_KINDS)('the change log read over a backlog of 100,000 changes on %s', (kind) => {
  let s: TestServer;
  let start: Position;
  let end: Position;
  const dialect = new PgDialect();
  beforeAll(async () => {
    s = await startTestServer(kind);
    start = (await readFeedState(s.database.db)).frontier;
    // One statement: one transaction, whose change rows (one per execution, by the insert trigger) are the backlog.
    await query(
      s,
      `insert into executions (id, organization_id, environment, workflow_id, trigger, root_execution_id, created_at,
         updated_at)
       select id, 'default', 'test', 'wf-' || (i % 10), '{"type":"manual"}', id, now(), now()
       from (select gen_random_uuid() as id, i from generate_series(1, ${BACKLOG}) as i) as seeded`,
    );
    end = (await readFeedState(s.database.db)).frontier;
  }, 180_000);
  afterAll(() => s.close());

  it('runs the tail’s statement as drizzle builds it, built once with its position filled in', () => {
    for (const at of [start, end, { xid: 42n, seq: 7n }]) {
      const bound = tailStatement(s.database.db, at, PAGE);
      expect({ sql: bound.query.sql, params: bound.params }).toEqual(tailQuery(s.database.db, at, PAGE).toSQL());
    }
  });

  it('seeded the backlog: one change row per execution, below the frontier', async () => {
    const [row] = await query(
      s,
      'select count(*)::int as n from execution_changes where xid >= $1::xid8 and xid < $2::xid8',
      [start.xid.toString(), end.xid.toString()],
    );
    expect(row?.n).toBe(BACKLOG);
  });

  // Both as written (the log grows between the autovacuum's visits: its newest pages not yet in the visibility map,
  // its statistics behind) and after a vacuum: an index-only probe is cheap only in the second, and a plan that
  // scans the log can look cheap in the first.
  reads();
  describe('after a vacuum', () => {
    beforeAll(async () => {
      await query(s, 'vacuum analyze executions');
      await query(s, 'vacuum analyze execution_changes');
    }, 120_000);
    reads();
  });

  function reads() {
    it('reads the tail’s first page of the backlog from the primary key in order, and stops after the page', async () => {
      const text = await analyzePrepared(s, tailQuery(s.database.db, start, PAGE).toSQL());
      expect(text).toMatch(/Index Scan using execution_changes_xid_seq_pk on execution_changes/);
      expect(text).not.toMatch(/Seq Scan on execution_changes/);
      expect(text).toMatch(/actual[^\n]* rows=1000(\.0+)? /); // a whole page came back
      // The page and one step for the newest row (held or not): not the backlog.
      expect(changeRowsRead(text)).toBeLessThanOrEqual(PAGE + 1);
    });

    it('reads next to nothing at the end of the backlog (nothing new, nothing held)', async () => {
      const text = await analyzePrepared(s, tailQuery(s.database.db, end, PAGE).toSQL());
      expect(text).not.toMatch(/Seq Scan on execution_changes/);
      expect(changeRowsRead(text)).toBeLessThanOrEqual(1);
    });

    it('reads the frontier, the horizon and whether rows are held without reading the log', async () => {
      const text = await analyzePrepared(s, dialect.sqlToQuery(feedStateStatement));
      expect(text).not.toMatch(/Seq Scan on execution_changes/);
      expect(changeRowsRead(text)).toBeLessThanOrEqual(1);
    });

    it('reads a replay’s page of a tenant and filter from the tenant’s index in order, and stops after the page', async () => {
      const page = changesQuery(s.database.db, {
        after: start,
        below: end.xid,
        limit: PAGE,
        tenant,
        filter: { workflowId: 'wf-3' },
      });
      const text = await analyzePrepared(s, page.toSQL());
      expect(text).toMatch(/Index Scan using execution_changes_tenant_idx on execution_changes/);
      expect(text).not.toMatch(/Seq Scan on execution_changes/);
      // One change in ten is of wf-3: a page is ten pages' worth of the log, read in order, and no more.
      expect(changeRowsRead(text)).toBeLessThanOrEqual(10 * PAGE + 10);
    });
  }
});
