import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/access.js';
import { countQuery, listQuery } from '../../src/domain/executions.js';
import { overviewQueries } from '../../src/domain/overview.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { analyzePrepared, query } from '../support/plans.js';

/** Plans compared by their shape: the costs move with the statistics. */
const COSTS_OFF = 'analyze, costs off';

const ROWS = 100_000;
const principal: Principal = {
  organizationId: 'default',
  environment: 'test',
  scopes: new Set(['executions:read']),
  keyId: null,
};

/** The plan PostgreSQL picks for a drizzle query, as text. */
async function plan(s: TestServer, q: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql, params } = q.toSQL();
  const rows = await query(s, `explain ${sql}`, params);
  return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
}

/**
 * The plan a prepared statement settles on after its first runs (PostgreSQL's generic plan, made without the
 * parameters' values): every query of the server is prepared, so this is the plan most requests run.
 */
async function genericPlan(s: TestServer, q: { toSQL(): { sql: string } }): Promise<string> {
  const text = `explain (generic_plan) ${q.toSQL().sql}`;
  const n = s.database.notifier;
  // Without parameters' values, so in the simple protocol (PGlite's `query` would bind none to $1…)
  const rows =
    n.kind === 'postgres'
      ? ((await n.sql.unsafe(text).simple()) as Record<string, unknown>[])
      : ((await n.pg.exec(text))[0]?.rows ?? []);
  return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
}

/**
 * How many times PostgreSQL planned a statement generically (once, for every execution after) and how many times
 * again for the given values, when it is prepared once and executed with each set of `params` in turn — as the
 * server runs every query (a prepared statement per connection, on PostgreSQL; the same rules hold in PGlite).
 */
async function planChoices(
  s: TestServer,
  queries: { toSQL(): { sql: string; params: unknown[] } }[],
): Promise<{ generic: number; custom: number }> {
  const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
  const [text, ...others] = queries.map((q) => q.toSQL().sql);
  expect(others.every((o) => o === text)).toBe(true);
  const statements = [
    `prepare tag_page_plans as ${text}`,
    ...queries.map((q) => `execute tag_page_plans(${q.toSQL().params.map(literal).join(', ')})`),
  ];
  const read = `select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements
    where name = 'tag_page_plans'`;
  const n = s.database.notifier;
  if (n.kind === 'postgres') {
    const session = await n.sql.reserve(); // one connection: a prepared statement belongs to its session
    try {
      for (const statement of statements) await session.unsafe(statement);
      const [row] = await session.unsafe(read);
      await session.unsafe('deallocate tag_page_plans');
      return { generic: Number(row?.generic), custom: Number(row?.custom) };
    } finally {
      session.release();
    }
  }
  for (const statement of statements) await n.pg.query(statement);
  const { rows } = await n.pg.query<{ generic: number; custom: number }>(read);
  await n.pg.query('deallocate tag_page_plans');
  return rows[0] as { generic: number; custom: number };
}

/** The rows every scan of execution_tags in an analyzed plan returned, summed. */
function tagRowsRead(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/Scan[^\n]* on execution_tags[^\n]*actual[^\n]*? rows=([\d.]+)[^\n]*loops=(\d+)/g))
    total += Number(m[1]) * Number(m[2]);
  return total;
}

/** A tag's first page read in order from the tag index: stops after a page, no sort of every matching row. */
function expectOrderedRange(text: string): void {
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).not.toMatch(/Sort/);
  expect(text).toMatch(/Index (Only )?Scan using execution_tags_pair_idx/);
  expect(text).toMatch(/^Limit/);
}

/**
 * The tag filter is served by an index at scale (API.md §8): on a table of 100k executions (10 workflows, 3 tags each
 * from a few hundred values), the first page and the counts of a tag-filtered list never scan the table, a tag's first
 * page is a range of execution_tags_pair_idx in page order, and its counts by status never read the executions.
 */
describe.each(DB_KINDS)('the tag filter on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await query(
      s,
      `insert into executions (id, organization_id, environment, workflow_id, trigger, tags, root_execution_id,
         created_at, updated_at)
       select id, 'default', 'test', 'wf-' || (i % 10), '{"type":"manual"}',
         jsonb_build_object('team', 'team-' || (i % 300), 'region', 'r-' || (i % 7), 'build', 'b-' || (i % 500)),
         id, now() - i * interval '1 second', now()
       from (select gen_random_uuid() as id, i from generate_series(1, ${ROWS}) as i) as seeded`,
    );
    await query(s, 'vacuum analyze executions');
    await query(s, 'vacuum analyze execution_tags');
  }, 180_000);
  afterAll(() => s.close());

  it('seeded the table, and its triggers the tag index', async () => {
    const [row] = await query(s, 'select count(*)::int as n from executions');
    expect(row?.n).toBeGreaterThanOrEqual(ROWS);
    const [tags] = await query(s, 'select count(*)::int as n from execution_tags');
    expect(tags?.n).toBe(3 * Number(row?.n));
  });

  it.each([
    ['a common tag (1 row in 300)', [{ key: 'team', value: 'team-7' }]],
    [
      'two tags',
      [
        { key: 'team', value: 'team-7' },
        { key: 'region', value: 'r-1' },
      ],
    ],
    [
      'a rare tag',
      [
        { key: 'build', value: 'b-3' },
        { key: 'team', value: 'team-3' },
      ],
    ],
    ['a tag no execution has', [{ key: 'team', value: 'nobody' }]],
  ])('reads the first page for %s without a sequential scan', async (_name, tags) => {
    const text = await plan(s, listQuery(s.database.db, principal, { filter: { tags }, first: 20 }));
    expect(text).not.toMatch(/Seq Scan/);
  });

  it.each([
    ['a tag of 1 row in 7', 'region', 'r-1'],
    ['a tag of 1 row in 300', 'team', 'team-7'],
    ['a tag no execution has', 'team', 'nobody'],
  ])(
    'reads the first page for %s as an ordered range of the tag index, also as a prepared statement',
    async (_name, key, value) => {
      const filter = { tags: [{ key, value }] };
      expectOrderedRange(await plan(s, listQuery(s.database.db, principal, { filter, first: 20 })));
      expectOrderedRange(await genericPlan(s, listQuery(s.database.db, principal, { filter, first: 20 })));
      const [last] = await query(s, 'select id, created_at from executions order by created_at limit 1 offset 5000');
      const after = Buffer.from(`${new Date(last?.created_at as string | Date).toISOString()}|${last?.id}`).toString(
        'base64url',
      );
      expectOrderedRange(await plan(s, listQuery(s.database.db, principal, { filter, first: 20, after })));
    },
  );

  it("plans a tag's first page once per prepared statement, not again for every request", async () => {
    // A page's limit is part of the statement's text: sent as a parameter, the generic plan guessed it keeps a tenth
    // of the rows, cost it far above the custom plans, and PostgreSQL planned every request again (1–1.5 ms at 1M).
    for (const first of [20, 50]) {
      const pages = Array.from({ length: 10 }, (_, i) =>
        listQuery(s.database.db, principal, { filter: { tags: [{ key: 'team', value: `team-${i}` }] }, first }),
      );
      const choices = await planChoices(s, pages);
      expect(choices.custom).toBeLessThanOrEqual(5); // PostgreSQL's five custom plans before it compares
      expect(choices.generic).toBeGreaterThanOrEqual(5);
    }
  });

  it.each([
    ['status', { status: ['RUNNING', 'FAILED'] }],
    ['status and created time', { status: ['PENDING'], createdAfter: new Date(Date.now() - 86_400_000).toISOString() }],
  ])(
    "reads a tag's first page with %s from the tag index alone until it has a page, also as a prepared statement",
    async (_name, rest) => {
      // The status is copied into the index: a tag's rows of another status are passed over there, not each read from
      // the executions (at 1M executions, a customer's 3,334 rows read one by one for a page of its few RUNNING ones).
      const filter = { tags: [{ key: 'team', value: 'team-7' }], ...rest };
      for (const text of [
        await plan(s, listQuery(s.database.db, principal, { filter, first: 20 })),
        await genericPlan(s, listQuery(s.database.db, principal, { filter, first: 20 })),
      ]) {
        expectOrderedRange(text);
        expect(text).toMatch(/Index Only Scan using execution_tags_pair_idx[^\n]*\n\s*Index Cond: [^\n]*\bstatus = /);
        expect(text).not.toMatch(/Filter: [^\n]*\bstatus\b/);
      }
    },
  );

  it.each([
    ['a workflow the tag never has', { workflowId: 'wf-3' }, /Index Cond: [^\n]*\bworkflow_id = /],
    ['the workflow the tag has', { workflowId: 'wf-7' }, /Index Cond: [^\n]*\bworkflow_id = /],
    ['a workflow prefix', { workflowIdPrefix: 'wf-3' }, /Index Cond: [^\n]*\bworkflow_id ~>=~ /],
    ['an id prefix', { idPrefix: '0' }, /Index Cond: [^\n]*\bexecution_id >= /],
  ])(
    "reads a tag's first page with %s from the tag index alone until it has a page, also as a prepared statement",
    async (_name, rest, condition) => {
      // The workflow is copied into the index beside the status: a tag's entries of another workflow are passed over
      // there, not each joined to its execution (at 1M executions, a customer with a workflow it never runs: 3,334
      // execution rows read for an empty page). The page's executions are then read once, by primary key.
      const filter = { tags: [{ key: 'team', value: 'team-7' }], ...rest };
      for (const text of [
        await plan(s, listQuery(s.database.db, principal, { filter, first: 20 })),
        await genericPlan(s, listQuery(s.database.db, principal, { filter, first: 20 })),
      ]) {
        expectOrderedRange(text);
        expect(text).toMatch(/Index Only Scan using execution_tags_pair_idx/);
        expect(text).toMatch(condition);
        expect(text.match(/ on executions\b/g)).toHaveLength(1);
      }
      const count = countQuery(s.database.db, principal, filter);
      for (const text of [await plan(s, count), await genericPlan(s, count)]) {
        expect(text).toMatch(/Index Only Scan using execution_tags_pair_idx/);
        expect(text).not.toMatch(/ on executions|Seq Scan/);
      }
    },
  );

  it.each([
    [
      'two pairs that match together (1 row in 7 of the first)',
      [
        { key: 'team', value: 'team-7' },
        { key: 'region', value: 'r-1' },
      ],
    ],
    [
      'two pairs, the larger first',
      [
        { key: 'region', value: 'r-1' },
        { key: 'team', value: 'team-7' },
      ],
    ],
    [
      'three pairs',
      [
        { key: 'region', value: 'r-1' },
        { key: 'team', value: 'team-7' },
        { key: 'build', value: 'b-7' },
      ],
    ],
  ])('reads the first page for %s in page order, without sorting what the pairs match', async (_name, tags) => {
    // Each pair is a range of the index in page order: merged (or probed) in that order, the read stops after a page.
    // Joined to the executions before the page was cut, the planner hashed the pairs, read every match's execution
    // and sorted them (at 1M executions, 1,667 rows for a page of 20).
    const filter = { tags };
    expectOrderedRange(await plan(s, listQuery(s.database.db, principal, { filter, first: 20 })));
    expectOrderedRange(await genericPlan(s, listQuery(s.database.db, principal, { filter, first: 20 })));
  });

  it('counts by status for a tag from the tag index alone (index-only), also as a prepared statement', async () => {
    const count = countQuery(s.database.db, principal, { tags: [{ key: 'region', value: 'r-1' }] });
    for (const text of [await plan(s, count), await genericPlan(s, count)]) {
      expect(text).toMatch(/Index Only Scan using execution_tags_pair_idx/);
      expect(text).not.toMatch(/ on executions|Seq Scan/);
    }
    const [row] = await query(
      s,
      `select count(*)::int as n from executions where tags @> '{"region":"r-1"}' and status = 'PENDING'`,
    );
    const rows = await count;
    expect(rows).toEqual([{ status: 'PENDING', count: row?.n }]);
  });

  it("plans a tag's counts once per prepared statement, not again for every request", async () => {
    // The custom plan's estimate of a pair rarer than the average is smaller than the generic one's, so PostgreSQL kept
    // planning every request for its values (0.3 ms at 1M); the tenant and pair are blind parameters now.
    for (const rest of [{}, { workflowId: 'wf-3' }]) {
      const counts = Array.from({ length: 10 }, (_, i) =>
        countQuery(s.database.db, principal, { tags: [{ key: 'team', value: `team-${i * 29}` }], ...rest }),
      );
      const choices = await planChoices(s, counts);
      expect(choices.custom).toBeLessThanOrEqual(5);
      expect(choices.generic).toBeGreaterThanOrEqual(5);
    }
  });

  it('reads nothing of two pairs used in spans of time that never meet, for a page or the counts', async () => {
    // 2,000 executions tagged phase-a=on two days ago, 2,000 phase-b=on in the last hour: none has both. Each pair's
    // range is read only within the span every pair has entries in (empty here); merged from their newest entries,
    // the read went through every phase-b entry before it reached phase-a's first.
    await query(
      s,
      `insert into executions (id, organization_id, environment, workflow_id, trigger, tags, root_execution_id,
         created_at, updated_at)
       select id, 'default', 'test', 'wf-phase', '{"type":"manual"}', jsonb_build_object(phase, 'on'), id, at, now()
       from (select gen_random_uuid() as id, case when i <= 2000 then 'phase-b' else 'phase-a' end as phase,
               now() - case when i <= 2000 then i * interval '1 second'
                 else interval '2 days' + i * interval '1 second' end as at
             from generate_series(1, 4000) as i) as seeded`,
    );
    const a = { key: 'phase-a', value: 'on' };
    const b = { key: 'phase-b', value: 'on' };
    for (const filter of [{ tags: [a, b] }, { tags: [b, a] }, { tags: [b, a], status: ['PENDING'] }]) {
      const page = await analyzePrepared(
        s,
        listQuery(s.database.db, principal, { filter, first: 20 }).toSQL(),
        COSTS_OFF,
      );
      expect(tagRowsRead(page)).toBeLessThanOrEqual(8); // the ends of each pair's range (one entry each)
      expect(await listQuery(s.database.db, principal, { filter, first: 20 })).toEqual([]);
      const count = await analyzePrepared(s, countQuery(s.database.db, principal, filter).toSQL(), COSTS_OFF);
      expect(tagRowsRead(count)).toBeLessThanOrEqual(8);
      expect(await countQuery(s.database.db, principal, filter)).toEqual([]);
    }
  });

  it('reads the overview of a bounded range from an index, not the table', async () => {
    const hour = overviewQueries(s.database.db, principal, {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
      bucketSeconds: 60,
    });
    for (const q of [hour.byBucket, hour.byWorkflow]) {
      const text = await plan(s, q);
      expect(text).not.toMatch(/Seq Scan/);
      expect(text).toMatch(/executions_tenant_created_idx/);
    }
    const tagged = overviewQueries(s.database.db, principal, {
      filter: { tags: [{ key: 'team', value: 'team-7' }] },
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date().toISOString(),
      bucketSeconds: 3600,
    });
    for (const q of [tagged.byBucket, tagged.byWorkflow]) expect(await plan(s, q)).not.toMatch(/Seq Scan/);
  });

  it('serves workflowIdPrefix and rootExecutionId from indexes too', async () => {
    const prefix = await plan(s, listQuery(s.database.db, principal, { filter: { workflowIdPrefix: 'wf-1' } }));
    expect(prefix).not.toMatch(/Seq Scan/);
    const [row] = await query(s, 'select id from executions limit 1');
    const root = await plan(s, listQuery(s.database.db, principal, { filter: { rootExecutionId: row?.id } }));
    expect(root).toMatch(/executions_root_idx/);
  });
});
