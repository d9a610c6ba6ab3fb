/**
 * The run model's part of `npm run bench` (`--only model`, issue 17): seeds 1,000,000 executions straight in SQL
 * (10 workflows, 3 tags each from a few hundred values), then measures over HTTP at c=8 with wrk the first page of
 * a list filtered by one tag pair (and, beside it, by two pairs, by two pairs that never meet, by a pair with a
 * status and by a pair with a workflow it never runs), `executionCounts` with the one pair, and creating an execution
 * with 3 tags and a parent against one without; and the tag index's bytes per execution.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MODEL_ROWS = 1_000_000;
/** Tag values: `team` from 40, `customer` from 300, `shard` from 250 (one customer pair matches ~3,300 rows). */
const CUSTOMERS = 300;

/**
 * Inserts `rows` executions of organization `default`, environment `test` (auth off), one every 2 s going back from
 * now, and their rows of the tag index (`execution_tags`, in the same statement, as its trigger would write them).
 * The secondary indexes are dropped first and rebuilt from their own definitions after the insert (one sort per
 * index instead of millions of index insertions), then the tables are vacuumed and analyzed, as tables of that size
 * would be by autovacuum.
 */
export async function seedModel(sql: postgres.Sql, rows: number, log: (m: string) => void): Promise<number> {
  const started = performance.now();
  const indexes = await sql<{ name: string; def: string }[]>`
    select indexname as name, indexdef as def from pg_indexes
    where tablename in ('executions', 'execution_tags') and indexname not in ('executions_pkey', 'execution_tags_pkey')`;
  for (const i of indexes) await sql.unsafe(`drop index ${i.name}`);
  await sql.unsafe('alter table executions disable trigger executions_tags_insert');
  const chunk = 250_000;
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1);
    await sql.unsafe(
      `with seeded as (insert into executions (id, organization_id, environment, workflow_id, status, trigger, tags,
         root_execution_id, created_at, updated_at, started_at, completed_at)
       select id, 'default', 'test', 'model-wf-' || (i % 10),
         (case when i % 20 = 0 then 'FAILED' when i % 97 = 0 then 'RUNNING' else 'COMPLETED' end)::execution_status,
         '{"type":"manual"}'::jsonb,
         jsonb_build_object('team', 'team-' || (i * 7 % 40), 'customer', 'c-' || (i * 13 % ${CUSTOMERS}),
           'shard', 's-' || (i * 11 % 250)),
         id, at, at, at, case when i % 97 = 0 then null else at + interval '90 seconds' end
       from (select i, gen_random_uuid() as id, now() - i * interval '2 seconds' as at
             from generate_series(${from}::int, ${to}::int) as i) as s
       returning id, organization_id, environment, created_at, status, tags, workflow_id)
       insert into execution_tags (execution_id, key, value, organization_id, environment, created_at, status,
         workflow_id)
       select id, t.key, t.value, organization_id, environment, created_at, status, workflow_id
       from seeded, jsonb_each_text(seeded.tags) as t`,
    );
    log(`seeded ${to.toLocaleString('en')} executions`);
  }
  await sql.unsafe('alter table executions enable trigger executions_tags_insert');
  for (const i of indexes) {
    await sql.unsafe(i.def);
    log(`rebuilt ${i.name}`);
  }
  await sql.unsafe('vacuum analyze executions');
  await sql.unsafe('vacuum analyze execution_tags');
  return Math.round((performance.now() - started) / 1000);
}

/** wrk's latency percentile (`99%   12.34ms`) in milliseconds. */
function percentile(out: string, p: string): number {
  const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
  if (!m) throw new Error(`no ${p}% in wrk's output:\n${out}`);
  const unit = { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  return Number(m[1]) * unit;
}

export interface WrkRun {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/** wrk at c connections for `seconds`, POSTing `bodies` round-robin (bench/post.lua), with its latency histogram. */
export function wrkLatency(url: string, bodies: string[], connections: number, seconds: number): WrkRun {
  const file = join(tmpdir(), `vigil-bench-model-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, `${bodies.join('\n')}\n`);
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', join(ROOT, 'bench/post.lua'), url],
    { env: { ...process.env, BODIES: file }, encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: percentile(out, '50'),
    p99: percentile(out, '99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

const gql = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
const customers = Array.from({ length: 20 }, (_, i) => `c-${(i * 37) % CUSTOMERS}`);

/** The first page of executions with one tag pair, as the dashboard asks for it (20 customers in turn). */
export const listBodies = customers.map((value) =>
  gql(
    'query($f: ExecutionFilter) { executions(filter: $f, first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    { f: { tags: [{ key: 'customer', value }] } },
  ),
);

/**
 * The seed gives execution i customer `c-(13i mod 300)`, team `team-(7i mod 40)` and workflow `model-wf-(i mod 10)`:
 * a customer's executions are those with i ≡ 277·c (mod 300) (277 is 13's inverse mod 300), so one workflow, and two
 * teams (7·i0 and 7·i0 + 20, mod 40).
 */
const firstOf = (customer: string) => (Number(customer.slice(2)) * 277) % CUSTOMERS;
/** A customer's team (one of its two: half its executions). */
const teamOf = (customer: string) => `team-${(firstOf(customer) * 7) % 40}`;
/** A team the customer never has. */
const otherTeamOf = (customer: string) => `team-${(firstOf(customer) * 7 + 1) % 40}`;
/** A workflow the customer never runs. */
const otherWorkflowOf = (customer: string) => `model-wf-${(firstOf(customer) + 1) % 10}`;

/** The first page of two pairs that match together (a customer and one of its two teams: half its executions). */
export const twoTagListBodies = customers.map((value) =>
  gql(
    'query($f: ExecutionFilter) { executions(filter: $f, first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    {
      f: {
        tags: [
          { key: 'customer', value },
          { key: 'team', value: teamOf(value) },
        ],
      },
    },
  ),
);

/** The first page of two pairs that never match together (a customer and a team it never has): an empty page. */
export const disjointListBodies = customers.map((value) =>
  gql(
    'query($f: ExecutionFilter) { executions(filter: $f, first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    {
      f: {
        tags: [
          { key: 'customer', value },
          { key: 'team', value: otherTeamOf(value) },
        ],
      },
    },
  ),
);

/** The first page of one pair and a workflow it never runs: an empty page. */
export const otherWorkflowListBodies = customers.map((value) =>
  gql(
    'query($f: ExecutionFilter) { executions(filter: $f, first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    { f: { tags: [{ key: 'customer', value }], workflowId: otherWorkflowOf(value) } },
  ),
);

/** The first page of one pair and a status: a customer's RUNNING executions (1 in 97 of its rows). */
export const statusTagListBodies = customers.map((value) =>
  gql(
    'query($f: ExecutionFilter) { executions(filter: $f, first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    { f: { tags: [{ key: 'customer', value }], status: ['RUNNING'] } },
  ),
);

/**
 * The same first page without a filter: the newest executions, the cheapest list there is. Measured in the same run,
 * it is what any list costs on the machine at that moment (on a shared, loaded machine, most of a request's latency).
 */
export const untaggedListBodies = [
  gql(
    'query { executions(first: 20) { nodes { id workflowId status createdAt durationMs tags { key value } } pageInfo { hasNextPage endCursor } } }',
    {},
  ),
];

export const countBodies = customers.map((value) =>
  gql('query($f: ExecutionFilter) { executionCounts(filter: $f) { total byStatus { status count } } }', {
    f: { tags: [{ key: 'customer', value }] },
  }),
);

const CREATE = 'mutation($i: CreateExecutionInput!) { createExecution(input: $i) { id } }';

/** Creating an execution: plain, or with 3 tags and a parent (several parents, so no one row is a hot spot). */
export function createBodies(parents: string[]): { plain: string[]; tagged: string[] } {
  const plain = Array.from({ length: 20 }, (_, i) => gql(CREATE, { i: { workflowId: `model-wf-${i % 10}` } }));
  const tagged = Array.from({ length: 20 }, (_, i) =>
    gql(CREATE, {
      i: {
        workflowId: `model-wf-${i % 10}`,
        parentExecutionId: parents[i % parents.length],
        tags: [
          { key: 'team', value: `team-${i % 40}` },
          { key: 'customer', value: `c-${(i * 13) % CUSTOMERS}` },
          { key: 'shard', value: `s-${i % 250}` },
        ],
      },
    }),
  );
  return { plain, tagged };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Seeds, then measures; every figure of the part, for bench/results/model.json and the table. */
export async function measureModel(
  sql: postgres.Sql,
  base: string,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  log(`model: seeding ${MODEL_ROWS.toLocaleString('en')} executions`);
  const seedSeconds = await seedModel(sql, MODEL_ROWS, log);
  const url = `${base}/graphql`;
  log('model_list_p99_ms');
  wrkLatency(url, listBodies, 8, 2);
  const list = wrkLatency(url, listBodies, 8, seconds);
  const untagged = wrkLatency(url, untaggedListBodies, 8, seconds);
  log('model_list_two_p99_ms, model_list_status_p99_ms');
  wrkLatency(url, twoTagListBodies, 8, 2);
  const two = wrkLatency(url, twoTagListBodies, 8, seconds);
  wrkLatency(url, statusTagListBodies, 8, 2);
  const withStatus = wrkLatency(url, statusTagListBodies, 8, seconds);
  log('model_list_disjoint_p99_ms, model_list_workflow_p99_ms');
  wrkLatency(url, disjointListBodies, 8, 2);
  const disjoint = wrkLatency(url, disjointListBodies, 8, seconds);
  wrkLatency(url, otherWorkflowListBodies, 8, 2);
  const otherWorkflow = wrkLatency(url, otherWorkflowListBodies, 8, seconds);
  log('model_counts_p99_ms');
  wrkLatency(url, countBodies, 8, 2);
  const counts = wrkLatency(url, countBodies, 8, seconds);
  log('model_create_ratio');
  const parents = (await sql<{ id: string }[]>`select id from executions order by created_at desc limit 20`).map(
    (r) => r.id,
  );
  const { plain, tagged } = createBodies(parents);
  wrkLatency(url, plain, 8, 2);
  wrkLatency(url, tagged, 8, 2);
  // Alternating pairs, the median of the ratios: the machine is shared, and a pair sees the same neighbours. At a fixed
  // concurrency a request's cost is the inverse of the throughput, so the cost ratio is plain rps / tagged rps.
  const pairs = Array.from({ length: 3 }, () => {
    const p = wrkLatency(url, plain, 8, Math.max(2, Math.round(seconds / 3)));
    const t = wrkLatency(url, tagged, 8, Math.max(2, Math.round(seconds / 3)));
    return { plain: p, tagged: t };
  });
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const [{ n }] = (await sql`select count(*)::int as n from executions`) as unknown as [{ n: number }];
  // The tag index's bytes per execution (heap and index of execution_tags, as the seed built them in one sort).
  const [{ bytes }] = (await sql`select (pg_table_size('execution_tags') + pg_indexes_size('execution_tags'))::float8
    as bytes`) as unknown as [{ bytes: number }];
  return {
    model_rows: n,
    model_seed_s: seedSeconds,
    model_list_p50_ms: round(list.p50),
    model_list_p99_ms: round(list.p99),
    model_list_rps: round(list.rps, 0),
    model_list_untagged_p50_ms: round(untagged.p50),
    model_list_untagged_p99_ms: round(untagged.p99),
    model_list_two_p50_ms: round(two.p50),
    model_list_two_p99_ms: round(two.p99),
    model_list_status_p50_ms: round(withStatus.p50),
    model_list_status_p99_ms: round(withStatus.p99),
    model_list_disjoint_p50_ms: round(disjoint.p50),
    model_list_disjoint_p99_ms: round(disjoint.p99),
    model_list_workflow_p50_ms: round(otherWorkflow.p50),
    model_list_workflow_p99_ms: round(otherWorkflow.p99),
    model_counts_p50_ms: round(counts.p50),
    model_counts_p99_ms: round(counts.p99),
    model_counts_rps: round(counts.rps, 0),
    model_create_plain_rps: round(median(pairs.map((x) => x.plain.rps)), 0),
    model_create_tagged_rps: round(median(pairs.map((x) => x.tagged.rps)), 0),
    model_create_ratio: round(median(pairs.map((x) => x.plain.rps / x.tagged.rps)), 3),
    model_tag_bytes_per_execution: round(bytes / n, 0),
    model_non2xx: [
      list,
      untagged,
      two,
      withStatus,
      disjoint,
      otherWorkflow,
      counts,
      ...pairs.flatMap((x) => [x.plain, x.tagged]),
    ].reduce((a, r) => a + r.non2xx, 0),
  };
}
