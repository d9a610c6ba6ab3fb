import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CREATE,
  codeOf,
  createExecution,
  DB_KINDS,
  ok,
  record,
  startTestServer,
  type TestServer,
} from '../support/harness.js';

const GET = `query($id: ID!) { execution(id: $id) { id tags { key value } lastSequence status } }`;
const COUNT = `query($filter: ExecutionFilter) { executionCounts(filter: $filter) { total byStatus { status count } } }`;
const LIST = `query($filter: ExecutionFilter, $first: Int, $after: String) {
  executions(filter: $filter, first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`;
const EVENTS = `query($id: ID!) { execution(id: $id) { events { sequence type ... on TagsChangedEvent { set { key value } removed } } } }`;

type Issue = { loc: (string | number)[]; msg: string };
const issuesOf = (res: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (res.errors?.[0]?.extensions?.issues ?? []) as Issue[];
const tags = (n: number, prefix = 'k') =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }));

describe.each(DB_KINDS)('tags on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const total = async (workflowId: string) =>
    ok(await s.gql<{ executionCounts: { total: number } }>(COUNT, { filter: { workflowId } })).executionCounts.total;
  const ids = async (filter: Record<string, unknown>, first = 100) =>
    ok(
      await s.gql<{ executions: { edges: { node: { id: string } }[] } }>(LIST, { filter, first }),
    ).executions.edges.map((e) => e.node.id);

  it('stores tags at creation and returns them sorted by key in code-point order', async () => {
    const input = {
      tags: [
        { key: 'team', value: 'data' },
        { key: 'Env', value: 'prod' },
        { key: 'a:b/c', value: '' },
      ],
    };
    const { id } = await createExecution(s, { workflowId: 'wf-tags', ...input });
    const e = ok(await s.gql<{ execution: { tags: unknown } }>(GET, { id })).execution;
    expect(e.tags).toEqual([
      { key: 'Env', value: 'prod' },
      { key: 'a:b/c', value: '' },
      { key: 'team', value: 'data' },
    ]);
  });

  it.each([
    ['33 tags', { tags: tags(33) }, ['tags']],
    ['an empty key', { tags: [{ key: '', value: 'x' }] }, ['tags', 0, 'key']],
    ['a 65-character key', { tags: [{ key: 'k'.repeat(65), value: 'x' }] }, ['tags', 0, 'key']],
    ['a key with a space', { tags: [{ key: 'a b', value: 'x' }] }, ['tags', 0, 'key']],
    ['a key with =', { tags: [{ key: 'a=b', value: 'x' }] }, ['tags', 0, 'key']],
    ['a 257-character value', { tags: [{ key: 'k', value: 'v'.repeat(257) }] }, ['tags', 0, 'value']],
    [
      'a key given twice',
      {
        tags: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      },
      ['tags', 1, 'key'],
    ],
  ])('refuses %s with VALIDATION_FAILED naming the field, and writes nothing', async (_name, input, loc) => {
    const workflowId = `wf-refused-${loc.join('-')}-${Math.random()}`;
    const res = await s.gql(CREATE, { input: { workflowId, ...input } });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect(issuesOf(res)[0]?.loc).toEqual(loc);
    expect(await total(workflowId)).toBe(0);
  });

  it('accepts the limits themselves: 32 tags, a 64-character key, a 256-character value', async () => {
    const input = { tags: [...tags(31), { key: 'k'.repeat(64), value: 'é'.repeat(256) }] };
    const { id } = await createExecution(s, { workflowId: 'wf-limits', ...input });
    const e = ok(await s.gql<{ execution: { tags: unknown[] } }>(GET, { id })).execution;
    expect(e.tags).toHaveLength(32);
  });

  it('treats tags in another order as the same idempotent request, and different tags as a conflict', async () => {
    const input = {
      workflowId: 'wf-idem-tags',
      idempotencyKey: 'tags-1',
      tags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    };
    const first = await createExecution(s, input);
    const again = await createExecution(s, {
      ...input,
      tags: [
        { key: 'b', value: '2' },
        { key: 'a', value: '1' },
      ],
    });
    expect(again.id).toBe(first.id);
    const other = await s.gql(CREATE, {
      input: {
        ...input,
        tags: [
          { key: 'a', value: '1' },
          { key: 'b', value: '3' },
        ],
      },
    });
    expect(codeOf(other)).toBe('IDEMPOTENCY_CONFLICT');
    const fewer = await s.gql(CREATE, { input: { ...input, tags: [{ key: 'a', value: '1' }] } });
    expect(codeOf(fewer)).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('changes tags with a worker event: set adds or replaces, remove deletes, one TAGS_CHANGED each', async () => {
    const { id } = await createExecution(s, {
      workflowId: 'wf-tag-event',
      tags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    });
    const res = await record(s, id, [
      {
        tags: {
          set: [
            { key: 'a', value: 'one' },
            { key: 'c', value: '3' },
          ],
          remove: ['b'],
        },
      },
      { tags: { remove: ['nope'] } },
    ]);
    expect(ok(res).recordExecutionEvents.events).toEqual([
      { sequence: 1, type: 'TAGS_CHANGED' },
      { sequence: 2, type: 'TAGS_CHANGED' },
    ]);
    const e = ok(await s.gql<{ execution: { tags: unknown } }>(GET, { id })).execution;
    expect(e.tags).toEqual([
      { key: 'a', value: 'one' },
      { key: 'c', value: '3' },
    ]);
    const events = ok(await s.gql<{ execution: { events: unknown[] } }>(EVENTS, { id })).execution.events;
    expect(events).toEqual([
      {
        sequence: 1,
        type: 'TAGS_CHANGED',
        set: [
          { key: 'a', value: 'one' },
          { key: 'c', value: '3' },
        ],
        removed: ['b'],
      },
      { sequence: 2, type: 'TAGS_CHANGED', set: [], removed: ['nope'] },
    ]);
    expect(await ids({ tags: [{ key: 'a', value: 'one' }], workflowId: 'wf-tag-event' })).toEqual([id]);
    expect(await ids({ tags: [{ key: 'b', value: '2' }], workflowId: 'wf-tag-event' })).toEqual([]);
  });

  it('refuses a tags event past 32 tags, with a bad key, or on a terminal execution, writing nothing', async () => {
    const { id } = await createExecution(s, { workflowId: 'wf-tag-refusals', tags: tags(30) });
    const over = await record(s, id, [{ tags: { set: tags(3, 'x') } }]);
    expect(codeOf(over)).toBe('VALIDATION_FAILED');
    expect(issuesOf(over)[0]?.loc).toEqual(['events', 0, 'tags', 'set']);
    const badKey = await record(s, id, [
      { progress: { percentage: 5 } },
      { tags: { set: [{ key: 'no space', value: '' }] } },
    ]);
    expect(codeOf(badKey)).toBe('VALIDATION_FAILED');
    expect(issuesOf(badKey)[0]?.loc).toEqual(['events', 1, 'tags', 'set', 0, 'key']);
    const both = await record(s, id, [{ tags: { set: [{ key: 'k0', value: 'x' }], remove: ['k0'] } }]);
    expect(codeOf(both)).toBe('VALIDATION_FAILED');
    expect(ok(await s.gql<{ execution: { lastSequence: number } }>(GET, { id })).execution.lastSequence).toBe(0);
    await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const late = await record(s, id, [{ tags: { set: [{ key: 'late', value: '1' }] } }]);
    expect(codeOf(late)).toBe('INVALID_STATUS_TRANSITION');
  });

  it('filters lists and counts by every given pair, the other filters, and pages across the tag filter', async () => {
    const wf = `wf-tag-filter-${kind}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = [
        { key: 'team', value: i % 2 === 0 ? 'even' : 'odd' },
        { key: 'n', value: String(i) },
      ];
      made.push((await createExecution(s, { workflowId: wf, tags: t })).id);
    }
    await record(s, made[0] as string, [{ statusChanged: { to: 'RUNNING' } }]);
    const even = [made[4], made[2], made[0]];
    expect(await ids({ tags: [{ key: 'team', value: 'even' }], workflowId: wf })).toEqual(even);
    expect(
      await ids({
        tags: [
          { key: 'team', value: 'even' },
          { key: 'n', value: '2' },
        ],
      }),
    ).toEqual([made[2]]);
    expect(
      await ids({
        tags: [
          { key: 'team', value: 'even' },
          { key: 'n', value: '1' },
        ],
      }),
    ).toEqual([]);
    const pages: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: {
        executions: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      } = ok(
        await s.gql(LIST, { filter: { tags: [{ key: 'team', value: 'even' }], workflowId: wf }, first: 2, after }),
      );
      pages.push(...page.executions.edges.map((e) => e.node.id));
      if (!page.executions.pageInfo.hasNextPage) break;
      after = page.executions.pageInfo.endCursor;
    }
    expect(pages).toEqual(even);
    const counts = ok(
      await s.gql<{ executionCounts: { total: number; byStatus: { status: string; count: number }[] } }>(COUNT, {
        filter: { tags: [{ key: 'team', value: 'even' }], workflowIdPrefix: 'wf-tag-filter-' },
      }),
    ).executionCounts;
    expect(counts.total).toBe(3);
    expect(counts.byStatus.find((c) => c.status === 'PENDING')?.count).toBe(2);
    expect(counts.byStatus.find((c) => c.status === 'RUNNING')?.count).toBe(1);
    expect(counts.byStatus).toHaveLength(8);
    const byStatus = ok(
      await s.gql<{ executionCounts: { total: number } }>(COUNT, { filter: { workflowId: wf, status: ['RUNNING'] } }),
    );
    expect(byStatus.executionCounts.total).toBe(1);
  });

  it('filters by workflowIdPrefix and idPrefix', async () => {
    const a = await createExecution(s, { workflowId: 'prefix_a.1%' });
    const b = await createExecution(s, { workflowId: 'prefix_a.2' });
    await createExecution(s, { workflowId: 'prefixXa' });
    expect(await ids({ workflowIdPrefix: 'prefix_a.' })).toEqual([b.id, a.id]);
    expect(await ids({ workflowIdPrefix: 'prefix_a.1%' })).toEqual([a.id]);
    expect(await ids({ idPrefix: a.id.slice(0, 34).toUpperCase(), workflowIdPrefix: 'prefix' })).toContain(a.id);
    expect(await ids({ idPrefix: a.id })).toEqual([a.id]);
    const bad = await s.gql(LIST, { filter: { idPrefix: 'xyz' } });
    expect(codeOf(bad)).toBe('VALIDATION_FAILED');
    expect(issuesOf(bad)[0]?.loc).toEqual(['filter', 'idPrefix']);
  });
});
