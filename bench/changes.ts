/**
 * The change feed's part of `npm run bench` (`--only changes`, issue 19): 100 `executionChanges` subscribers (the
 * lean SSE path at POST /graphql) while 1,000 changes/s are written over HTTP, delivery latency from the writer's
 * send to each subscriber's receipt and whether every subscriber saw every execution's last change; then a replay
 * of 100,000 changes (100,000 executions changed after a cursor) read by one subscriber, in seconds.
 */
import type postgres from 'postgres';

const SUBSCRIBERS = 100;
const RATE = 1000;
const EXECUTIONS = 200;
const REPLAY = 100_000;

const SUBSCRIPTION = `subscription($filter: ExecutionFilter, $after: String) {
  executionChanges(filter: $filter, after: $after) { cursor execution { id lastSequence } }
}`;
const FRAME = /"id":"([0-9a-f-]{36})","lastSequence":(\d+)/g;

/** Opens one subscription; calls `on(id, lastSequence)` per change received; returns its abort. */
async function open(
  base: string,
  variables: Record<string, unknown>,
  on: (id: string, sequence: number) => void,
): Promise<() => void> {
  const controller = new AbortController();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: SUBSCRIPTION, variables }),
    signal: controller.signal,
  });
  if (!res.body) throw new Error(`subscription refused: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let rest = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
        const cut = rest.lastIndexOf('\n\n');
        if (cut < 0) continue;
        for (const m of rest.slice(0, cut).matchAll(FRAME)) on(m[1] as string, Number(m[2]));
        rest = rest.slice(cut + 2);
      }
    } catch {
      // aborted
    }
  })();
  return () => controller.abort();
}

async function gql<T>(base: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const create = async (base: string, workflowId: string) =>
  (
    await gql<{ createExecution: { id: string } }>(
      base,
      'mutation($w: String!) { createExecution(input: { workflowId: $w }) { id } }',
      { w: workflowId },
    )
  ).createExecution.id;

const RECORD = `mutation($id: ID!, $p: Float!) {
  recordExecutionEvents(executionId: $id, events: [{ progress: { percentage: $p } }]) { execution { lastSequence } }
}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function measureChanges(
  sql: postgres.Sql,
  base: string,
  seconds: number,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  log(`changes: ${SUBSCRIBERS} subscribers, ${RATE} changes/s for ${seconds} s`);
  const filter = { workflowId: 'bench-changes' };
  const ids: string[] = [];
  for (let i = 0; i < EXECUTIONS; i++) ids.push(await create(base, 'bench-changes'));
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const last: Map<string, number>[] = [];
  const aborts: (() => void)[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const seen = new Map<string, number>();
    last.push(seen);
    aborts.push(
      await open(base, { filter }, (id, sequence) => {
        const at = sent.get(`${id}:${sequence}`);
        if (at !== undefined) latencies.push(performance.now() - at);
        if ((seen.get(id) ?? -1) < sequence) seen.set(id, sequence);
      }),
    );
  }
  // Live once a change made now reaches every subscriber.
  for (let tries = 0; tries < 100; tries++) {
    const probe = ids[0] as string;
    const { recordExecutionEvents } = await gql<{ recordExecutionEvents: { execution: { lastSequence: number } } }>(
      base,
      RECORD,
      { id: probe, p: 1 },
    );
    await sleep(100);
    if (last.every((s) => (s.get(probe) ?? -1) >= recordExecutionEvents.execution.lastSequence)) break;
  }
  const baseSequence = new Map<string, number>();
  for (const id of ids) baseSequence.set(id, (last[0] as Map<string, number>).get(id) ?? 0);
  latencies.length = 0;

  // Each execution written by one loop at RATE / EXECUTIONS per second, so its sequence after k writes is known.
  const expected = new Map<string, number>();
  const started = performance.now();
  const end = started + seconds * 1000;
  const perExecutionMs = (1000 * EXECUTIONS) / RATE;
  await Promise.all(
    ids.map(async (id, i) => {
      let sequence = baseSequence.get(id) ?? 0;
      let next = started + (i * perExecutionMs) / EXECUTIONS;
      while (next < end) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        sequence += 1;
        sent.set(`${id}:${sequence}`, performance.now());
        const r = await gql<{ recordExecutionEvents: { execution: { lastSequence: number } } }>(base, RECORD, {
          id,
          p: sequence % 100,
        });
        sequence = r.recordExecutionEvents.execution.lastSequence;
        next += perExecutionMs;
      }
      expected.set(id, sequence);
    }),
  );
  const written =
    [...expected.values()].reduce((a, n) => a + n, 0) - [...baseSequence.values()].reduce((a, n) => a + n, 0);
  const elapsed = (performance.now() - started) / 1000;
  const settle = Date.now() + 10_000;
  const missingOf = () =>
    last.reduce((n, seen) => n + [...expected].filter(([id, s]) => (seen.get(id) ?? -1) < s).length, 0);
  while (missingOf() > 0 && Date.now() < settle) await sleep(100);
  const missing = missingOf();
  for (const abort of aborts) abort();
  const sorted = latencies.sort((a, b) => a - b);

  log(`changes: replay of ${REPLAY.toLocaleString('en')} changes`);
  const { executionChangesCursor: cursor } = await gql<{ executionChangesCursor: string }>(
    base,
    '{ executionChangesCursor }',
  );
  await sql.unsafe(
    `insert into executions (id, organization_id, environment, workflow_id, trigger, root_execution_id, created_at, updated_at)
     select id, 'default', 'test', 'bench-replay', '{"type":"manual"}'::jsonb, id, now(), now()
     from (select gen_random_uuid() as id from generate_series(1, ${REPLAY})) as s`,
  );
  let replayed = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const replayStart = performance.now();
  const abort = await open(base, { after: cursor, filter: { workflowId: 'bench-replay' } }, () => {
    replayed += 1;
    if (replayed >= REPLAY) done();
  });
  await Promise.race([finished, sleep(120_000)]);
  const replaySeconds = (performance.now() - replayStart) / 1000;
  abort();
  return {
    changes_subscribers: SUBSCRIBERS,
    changes_rate: round(written / elapsed, 0),
    changes_delivered: sorted.length,
    changes_p50_ms: round(percentile(sorted, 0.5)),
    changes_p99_ms: round(percentile(sorted, 0.99)),
    changes_missing: missing,
    changes_replay_rows: replayed,
    changes_replay_s: round(replaySeconds),
  };
}
