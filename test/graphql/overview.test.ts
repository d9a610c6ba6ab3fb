import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executions } from '../../src/db/schema.js';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const OVERVIEW = `query($filter: ExecutionFilter, $from: DateTime!, $to: DateTime!, $bucketSeconds: Int!) {
  executionOverview(filter: $filter, from: $from, to: $to, bucketSeconds: $bucketSeconds) {
    from to bucketSeconds
    buckets { start total byStatus { status count } }
    workflows { workflowId finished p50Ms p95Ms }
  }
}`;

interface Overview {
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: { start: string; total: number; byStatus: { status: string; count: number }[] }[];
  workflows: { workflowId: string; finished: number; p50Ms: number; p95Ms: number }[];
}

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

describe.each(DB_KINDS)('executionOverview on %s', (kind) => {
  let s: TestServer;
  const prefix = `ov-${kind}-`;
  beforeAll(async () => {
    s = await startTestServer(kind);
    // one execution at a known time: created at `minute`, running from createdAt, finished after `ms` (when given)
    const seed = async (workflow: string, minute: number, status: 'RUNNING' | 'COMPLETED' | 'FAILED', ms?: number) => {
      const { id } = await createExecution(s, { workflowId: prefix + workflow, tags: [{ key: 'team', value: kind }] });
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
      if (status !== 'RUNNING') ok(await record(s, id, [{ statusChanged: { to: status } }]));
      const createdAt = at(minute);
      await s.database.db
        .update(executions)
        .set({
          createdAt,
          startedAt: createdAt,
          completedAt: ms === undefined ? null : new Date(createdAt.getTime() + ms),
        })
        .where(eq(executions.id, id));
    };
    // bucket 0 (00:00–01:00): 2 completed, 1 failed; bucket 1: 2 completed, 1 running; bucket 2: none;
    // one before the range and one at its end (excluded: the range is [from, to))
    await seed('etl', 5, 'COMPLETED', 1000);
    await seed('etl', 10, 'COMPLETED', 2000);
    await seed('etl', 70, 'COMPLETED', 3000);
    await seed('etl', 80, 'COMPLETED', 4000);
    await seed('report', 20, 'FAILED', 500);
    await seed('report', 90, 'RUNNING');
    await seed('etl', -1, 'COMPLETED', 100_000);
    await seed('etl', 180, 'COMPLETED', 100_000);
  });
  afterAll(() => s.close());

  const overview = (vars: Record<string, unknown>) =>
    s.gql<{ executionOverview: Overview }>(OVERVIEW, {
      filter: { workflowIdPrefix: prefix },
      from: at(0).toISOString(),
      to: at(180).toISOString(),
      bucketSeconds: 3600,
      ...vars,
    });
  const countsOf = (b: Overview['buckets'][number]) =>
    Object.fromEntries(b.byStatus.filter((c) => c.count > 0).map((c) => [c.status, c.count]));

  it('counts executions per bucket and status, empty buckets included, over [from, to)', async () => {
    const o = ok(await overview({})).executionOverview;
    expect(o.from).toBe('2026-11-01T00:00:00.000Z');
    expect(o.bucketSeconds).toBe(3600);
    expect(o.buckets.map((b) => b.start)).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-11-01T01:00:00.000Z',
      '2026-11-01T02:00:00.000Z',
    ]);
    expect(o.buckets.map((b) => b.total)).toEqual([3, 3, 0]);
    expect(countsOf(o.buckets[0]!)).toEqual({ COMPLETED: 2, FAILED: 1 });
    expect(countsOf(o.buckets[1]!)).toEqual({ COMPLETED: 2, RUNNING: 1 });
    expect(o.buckets[2]!.byStatus).toHaveLength(8);
  });

  it('gives p50 and p95 duration per workflow over its finished executions, most finished first', async () => {
    const o = ok(await overview({})).executionOverview;
    expect(o.workflows).toEqual([
      // 1, 2, 3, 4 s: continuous percentiles
      { workflowId: `${prefix}etl`, finished: 4, p50Ms: 2500, p95Ms: 3850 },
      { workflowId: `${prefix}report`, finished: 1, p50Ms: 500, p95Ms: 500 },
    ]);
  });

  it('applies the filter (status, tags, workflow) like executions does', async () => {
    const failed = ok(await overview({ filter: { workflowIdPrefix: prefix, status: ['FAILED'] } })).executionOverview;
    expect(failed.buckets.map((b) => b.total)).toEqual([1, 0, 0]);
    expect(failed.workflows.map((w) => w.workflowId)).toEqual([`${prefix}report`]);
    const tagged = ok(await overview({ filter: { tags: [{ key: 'team', value: kind }], workflowId: `${prefix}etl` } }));
    expect(tagged.executionOverview.buckets.map((b) => b.total)).toEqual([2, 2, 0]);
  });

  it.each([
    ['to before from', { to: at(-60).toISOString() }, 'to'],
    ['to equal to from', { to: at(0).toISOString() }, 'to'],
    ['a range over 31 days', { to: new Date(T0 + 31 * 86_400_000 + 1000).toISOString(), bucketSeconds: 86_400 }, 'to'],
    ['more than 200 buckets', { bucketSeconds: 50 }, 'bucketSeconds'],
    ['a bucket of 0 seconds', { bucketSeconds: 0 }, 'bucketSeconds'],
    ['a negative bucket', { bucketSeconds: -60 }, 'bucketSeconds'],
  ])('refuses %s with VALIDATION_FAILED naming the argument', async (_name, vars, loc) => {
    const res = await overview(vars);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect(res.errors?.[0]?.extensions?.issues).toEqual([expect.objectContaining({ loc: [loc] })]);
    expect(res.data).toBeNull();
  });

  it('accepts exactly 31 days in 200 buckets', async () => {
    const to = new Date(T0 + 31 * 86_400_000).toISOString();
    const o = ok(await overview({ to, bucketSeconds: Math.ceil((31 * 86_400) / 200) })).executionOverview;
    expect(o.buckets).toHaveLength(200);
    expect(o.buckets.reduce((n, b) => n + b.total, 0)).toBe(7);
  });

  it('refuses a bad filter and a malformed time like every query', async () => {
    expect(codeOf(await overview({ filter: { idPrefix: 'zz' } }))).toBe('VALIDATION_FAILED');
    expect(codeOf(await overview({ from: 'yesterday' }))).toBe('VALIDATION_FAILED');
  });
});
