import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExecution,
  DB_KINDS,
  ok,
  record,
  startTestServer,
  type TestServer,
  UPDATE_STATUS,
} from '../support/harness.js';
import { makeKey, type TestKey } from '../support/keys.js';

const LIST = `query($filter: ExecutionFilter, $first: Int, $after: String) {
  executions(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id status createdAt } } pageInfo { hasNextPage endCursor }
  }
}`;
const COUNT = `query($filter: ExecutionFilter) { executionCounts(filter: $filter) { total byStatus { status count } } }`;

interface Row {
  id: string;
  status: string;
  workflowId: string;
  tags: Record<string, string>;
}
interface Page {
  executions: {
    edges: { cursor: string; node: { id: string; status: string; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
type Tag = { key: string; value: string };
/** The filters besides tags that these pages combine with them. */
type Rest = { status?: string[]; workflowId?: string; workflowIdPrefix?: string; idPrefix?: string };
type Counts = { executionCounts: { total: number; byStatus: { status: string; count: number }[] } };

/**
 * A tag-filtered page is read in two steps (the page's ids from the tag index, then those executions) and its status
 * and created-time conditions on the index's copies: the pages, walked with cursors, must be exactly the executions
 * the filter names, newest first, as the list without tags orders them, in the caller's tenant only.
 */
describe.each(DB_KINDS)('pages of a tag filter on %s', (kind) => {
  let s: TestServer;
  let acme: TestKey;
  let globex: TestKey;
  const rows: Row[] = [];
  /** acme's executions newest first, from the list without tags (its own query: the reference order). */
  let newestFirst: string[] = [];
  const test = { 'x-environment': 'test' };

  const page = async (key: TestKey, filter: Record<string, unknown>, first: number, after: string | null) =>
    ok(await s.gql<Page>(LIST, { filter, first, after }, { ...key.headers, ...test })).executions;

  /** Every page of the filter, `first` at a time, checking each page's cursors and hasNextPage. */
  async function walk(key: TestKey, filter: Record<string, unknown>, first: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 100; n++) {
      const p: Page['executions'] = await page(key, filter, first, after);
      ids.push(...p.edges.map((e) => e.node.id));
      expect(p.edges.length).toBeLessThanOrEqual(first);
      if (!p.pageInfo.hasNextPage) return ids;
      expect(p.edges).toHaveLength(first);
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor);
      after = p.pageInfo.endCursor;
    }
    throw new Error('more than 100 pages');
  }

  const matching = (tags: Tag[], rest: Rest = {}) =>
    newestFirst.filter((id) => {
      const row = rows.find((r) => r.id === id) as Row;
      return (
        tags.every((t) => row.tags[t.key] === t.value) &&
        (!rest.status || rest.status.includes(row.status)) &&
        (!rest.workflowId || row.workflowId === rest.workflowId) &&
        (!rest.workflowIdPrefix || row.workflowId.startsWith(rest.workflowIdPrefix)) &&
        (!rest.idPrefix || row.id.startsWith(rest.idPrefix))
      );
    });

  /** The counts by status the filter's executions have (every status, zeros included, in the API's order). */
  const countsOf = (ids: string[], all: string[]) => {
    const statuses = ids.map((id) => (rows.find((r) => r.id === id) as Row).status);
    const byStatus = all.map((status) => ({ status, count: statuses.filter((x) => x === status).length }));
    return { total: ids.length, byStatus };
  };
  const counts = async (key: TestKey, filter: Record<string, unknown>, headers = test) =>
    ok(await s.gql<Counts>(COUNT, { filter }, { ...key.headers, ...headers })).executionCounts;

  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on' } });
    acme = await makeKey(s, 'acme', ['executions:read', 'executions:write'], ['test', 'live']);
    globex = await makeKey(s, 'globex', ['executions:read', 'executions:write']);
    for (let i = 0; i < 36; i++) {
      const tags = {
        team: i % 2 === 0 ? 'red' : 'blue',
        customer: `c${i % 3}`,
        ...(i % 4 === 0 ? { tier: 'gold' } : {}),
      };
      const input = {
        workflowId: `wf-page-${i % 2}`,
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      };
      const { id } = await createExecution(s, input, { ...acme.headers, ...test });
      rows.push({ id, status: 'PENDING', workflowId: input.workflowId, tags });
      // The same tags in another organization and in acme's other environment: never in acme's test pages.
      if (i % 6 === 0) {
        await createExecution(s, input, { ...globex.headers, ...test });
        await createExecution(s, input, { ...acme.headers, 'x-environment': 'live' });
      }
    }
    const headers = { ...acme.headers, ...test };
    for (const [i, row] of rows.entries()) {
      if (i % 9 === 4) {
        // A worker's tags event: the execution moves to another customer, at its own place in the order.
        ok(await record(s, row.id, [{ tags: { set: [{ key: 'customer', value: 'c9' }] } }], headers));
        row.tags.customer = 'c9';
      }
      if (i % 5 === 1 || i % 5 === 2) {
        ok(await record(s, row.id, [{ statusChanged: { to: 'RUNNING' } }], headers));
        row.status = 'RUNNING';
      }
      if (i % 5 === 2) {
        ok(await record(s, row.id, [{ statusChanged: { to: 'FAILED' } }], headers));
        row.status = 'FAILED';
      }
      if (i % 5 === 3) {
        ok(await s.gql(UPDATE_STATUS, { id: row.id, status: 'CANCELLED' }, headers));
        row.status = 'CANCELLED';
      }
    }
    newestFirst = await walk(acme, {}, 100);
    expect(newestFirst).toHaveLength(36);
  }, 120_000);
  afterAll(() => s.close());

  it.each<[string, Tag[], Rest]>([
    ['one pair', [{ key: 'team', value: 'red' }], {}],
    ['one pair changed by a tags event', [{ key: 'customer', value: 'c9' }], {}],
    [
      'two pairs',
      [
        { key: 'team', value: 'red' },
        { key: 'customer', value: 'c1' },
      ],
      {},
    ],
    [
      'two pairs, the larger last',
      [
        { key: 'tier', value: 'gold' },
        { key: 'team', value: 'red' },
      ],
      {},
    ],
    [
      'three pairs',
      [
        { key: 'customer', value: 'c0' },
        { key: 'team', value: 'red' },
        { key: 'tier', value: 'gold' },
      ],
      {},
    ],
    ['one pair and a status', [{ key: 'team', value: 'blue' }], { status: ['RUNNING'] }],
    ['one pair and two statuses', [{ key: 'customer', value: 'c2' }], { status: ['FAILED', 'CANCELLED'] }],
    [
      'two pairs and a status',
      [
        { key: 'team', value: 'red' },
        { key: 'customer', value: 'c0' },
      ],
      { status: ['PENDING'] },
    ],
    [
      'two pairs that never meet',
      [
        { key: 'team', value: 'blue' },
        { key: 'tier', value: 'gold' },
      ],
      {},
    ],
    [
      'two pairs that never meet, the larger last',
      [
        { key: 'tier', value: 'gold' },
        { key: 'team', value: 'blue' },
      ],
      {},
    ],
    ['one pair and a workflow it never runs', [{ key: 'team', value: 'red' }], { workflowId: 'wf-page-1' }],
    ['one pair and a workflow it sometimes runs', [{ key: 'customer', value: 'c1' }], { workflowId: 'wf-page-0' }],
    ['one pair and a workflow prefix', [{ key: 'customer', value: 'c2' }], { workflowIdPrefix: 'wf-page-1' }],
    [
      'two pairs, a workflow and a status',
      [
        { key: 'team', value: 'blue' },
        { key: 'customer', value: 'c0' },
      ],
      { workflowId: 'wf-page-1', status: ['PENDING', 'CANCELLED'] },
    ],
  ])('pages %s newest first, across pages, as the filter names them', async (_name, tags, rest) => {
    const expected = matching(tags, rest);
    const filter = { tags, ...rest };
    for (const first of [1, 4, 100]) expect(await walk(acme, filter, first)).toEqual(expected);
    const c = await counts(acme, filter);
    expect(c).toEqual(
      countsOf(
        expected,
        c.byStatus.map((x) => x.status),
      ),
    );
  });

  it('pages a tag with an id prefix, on the index', async () => {
    const tags = [{ key: 'team', value: 'blue' }];
    const blue = matching(tags);
    // The longest prefix the two newest blue executions share: their ids are v7 (time first), so it names a few.
    const [a, b] = blue as [string, string];
    let n = 0;
    while (a[n] === b[n]) n++;
    const idPrefix = a.slice(0, n).replace(/-$/, '');
    const expected = matching(tags, { idPrefix });
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(await walk(acme, { tags, idPrefix }, 1)).toEqual(expected);
    const c = await counts(acme, { tags, idPrefix });
    expect(c).toEqual(
      countsOf(
        expected,
        c.byStatus.map((x) => x.status),
      ),
    );
  });

  it('pages a tag with the created-time range and the workflow, on the index and on the executions', async () => {
    const tags = [{ key: 'team', value: 'red' }];
    const all = matching(tags);
    const times = new Map<string, string>();
    for (const e of (await page(acme, { tags }, 100, null)).edges) times.set(e.node.id, e.node.createdAt);
    const middle = times.get(all[Math.floor(all.length / 2)] as string) as string;
    const older = all.filter((id) => (times.get(id) as string) < middle);
    expect(older.length).toBeGreaterThan(0);
    expect(await walk(acme, { tags, createdBefore: middle }, 3)).toEqual(older);
    expect(await walk(acme, { tags, createdAfter: middle }, 3)).toEqual(
      all.filter((id) => (times.get(id) as string) > middle),
    );
    // Every red execution is in wf-page-0 (even i): the workflow is checked on the executions, in the same page.
    expect(await walk(acme, { tags, workflowId: 'wf-page-0' }, 3)).toEqual(all);
    expect(await walk(acme, { tags, workflowId: 'wf-page-1' }, 3)).toEqual([]);
  });

  it('answers requests of one shape at once, each with its own values (one statement per shape)', async () => {
    // A list's statement is built once per shape (which fields, how many pairs and statuses, a cursor or not, the page
    // size) and every request binds its own values: pairs, tenants, statuses and cursors of the same shape, sent
    // together, must each get their own page and counts.
    const cases: [TestKey, Record<string, unknown>, string[]][] = [];
    for (const value of ['c0', 'c1', 'c2', 'c9']) {
      const tags = [{ key: 'customer', value }];
      cases.push([acme, { tags }, matching(tags)]);
      cases.push([acme, { tags, status: ['RUNNING'] }, matching(tags, { status: ['RUNNING'] })]);
      cases.push([acme, { tags, status: ['PENDING'] }, matching(tags, { status: ['PENDING'] })]);
    }
    const theirs = await walk(globex, { tags: [{ key: 'customer', value: 'c0' }] }, 100);
    expect(theirs).toHaveLength(6);
    cases.push([globex, { tags: [{ key: 'customer', value: 'c0' }] }, theirs]);
    for (let round = 0; round < 3; round++) {
      const pages = await Promise.all(cases.map(([key, filter]) => page(key, filter, 100, null)));
      for (const [i, p] of pages.entries()) expect(p.edges.map((e) => e.node.id)).toEqual(cases[i]?.[2]);
      const all = await Promise.all(cases.map(([key, filter]) => counts(key, filter)));
      for (const [i, c] of all.entries()) expect(c.total).toBe(cases[i]?.[2].length);
      // The second page of each, from its own cursor: one shape again, with cursors of different values.
      const firsts = await Promise.all(cases.map(([key, filter]) => page(key, filter, 1, null)));
      const seconds = await Promise.all(
        cases.map(([key, filter], i) => page(key, filter, 1, firsts[i]?.pageInfo.endCursor ?? null)),
      );
      for (const [i, p] of seconds.entries()) {
        expect(p.edges.map((e) => e.node.id)).toEqual(cases[i]?.[2].slice(1, 2));
      }
    }
  });

  it('keeps answering every shape after more shapes than it keeps statements for', async () => {
    // Statements are kept for the 200 shapes used last; each page size is a shape (with a cursor, another), so 1–100
    // with and without a cursor, and the counts, are more: the first ones are built again, with the same answers.
    const tags = [{ key: 'team', value: 'red' }];
    const red = matching(tags);
    for (let first = 1; first <= 100; first++) {
      const p = await page(acme, { tags }, first, null);
      expect(p.edges.map((e) => e.node.id)).toEqual(red.slice(0, first));
      const next = await page(acme, { tags }, first, p.pageInfo.endCursor);
      expect(next.edges.map((e) => e.node.id)).toEqual(red.slice(first, 2 * first));
    }
    expect(await walk(acme, { tags }, 1)).toEqual(red);
    expect((await counts(acme, { tags })).total).toBe(red.length);
  });

  it("never pages another organization's or environment's executions with the same tags", async () => {
    const tags = [
      { key: 'team', value: 'red' },
      { key: 'customer', value: 'c0' },
    ];
    const theirs = await walk(globex, { tags }, 2);
    expect(theirs).toHaveLength(6);
    const live = ok(
      await s.gql<Page>(LIST, { filter: { tags }, first: 100 }, { ...acme.headers, 'x-environment': 'live' }),
    ).executions.edges.map((e) => e.node.id);
    expect(live).toHaveLength(6);
    const mine = await walk(acme, { tags }, 2);
    expect(mine).toEqual(matching(tags));
    for (const id of [...theirs, ...live]) expect(mine).not.toContain(id);
    expect(new Set([...theirs, ...live]).size).toBe(12);
    // The same with the workflow (tested on the index), and in the counts: each tenant its own six.
    const filter = { tags, workflowId: 'wf-page-0' };
    expect(await walk(globex, filter, 4)).toEqual(theirs);
    expect(await walk(acme, filter, 4)).toEqual(matching(tags, { workflowId: 'wf-page-0' }));
    expect((await counts(globex, filter)).byStatus).toContainEqual({ status: 'PENDING', count: 6 });
    expect((await counts(globex, filter)).total).toBe(6);
    expect((await counts(acme, filter, { 'x-environment': 'live' })).total).toBe(6);
    expect((await counts(acme, filter)).total).toBe(matching(tags).length);
  });
});
