/**
 * Log line delivery, end to end: in one client process, a writer sends one LOG line over HTTP (recordExecutionEvents
 * on POST /graphql, timestamped just before the request is sent) and k followers (executionEvents(types: [LOG]) over
 * graphql-sse) receive it from the Vigil process under test; the figure is receipt − send, per follower.
 *   --n samples (after n/10, at least 3, not counted)  --k followers of the one execution
 */
import { argv, createExecutions, graphql, now, percentile, report, round, sse } from './common.js';

const base = argv('base', 'http://127.0.0.1:4000');
const n = Number(argv('n', '200'));
const k = Number(argv('k', '1'));
const warm = Math.max(3, Math.round(n / 10));
const SUB =
  'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 600, types: [LOG]) { sequence ... on LogEvent { text } } }';
const RECORD =
  'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { lastSequence } } }';
/** A line of about 120 bytes, as a build or ETL step writes them. */
const line = (i: number) => ({
  log: {
    text: `2026-12-05T22:00:00.000Z INFO  worker-7 loader: batch ${String(i).padStart(6, '0')} copied 1000 rows from orders_eu into wh-2.staging in 12 ms\n`,
  },
});

const [id] = await createExecutions(base, 1, 'bench-logs');
if (!id) throw new Error('no execution');
await graphql(base, RECORD, { id, e: [{ statusChanged: { to: 'RUNNING' } }] });
const arrivals = new Map<number, number[]>();
let complete: ((seq: number) => void) | null = null;
const handles = Array.from({ length: k }, () =>
  sse(base, SUB, { id }, (data, at) => {
    const seq = (JSON.parse(data) as { data: { executionEvents: { sequence: number } } }).data.executionEvents.sequence;
    const list = arrivals.get(seq) ?? [];
    list.push(at);
    arrivals.set(seq, list);
    if (list.length >= k) complete?.(seq);
  }),
);
await Promise.all(handles.map((h) => h.opened));
await new Promise((r) => setTimeout(r, 200));
const started = now();
const latencies: number[] = [];
for (let i = 1; i <= warm + n; i++) {
  const seq = i + 1; // 1 is the status change
  const received = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    complete = (done) => {
      if (done !== seq) return;
      clearTimeout(timer);
      resolve();
    };
  });
  const t0 = now();
  await graphql(base, RECORD, { id, e: [line(i)] });
  if ((arrivals.get(seq)?.length ?? 0) < k) await received;
  complete = null;
  const got = arrivals.get(seq) ?? [];
  if (got.length < k) throw new Error(`line ${seq}: ${got.length}/${k} receipts within 5 s`);
  if (i > warm) for (const at of got) latencies.push(at - t0);
  arrivals.delete(seq);
  await new Promise((r) => setTimeout(r, 5));
}
for (const h of handles) h.close();
report({
  followers: k,
  samples: latencies.length,
  p50_ms: round(percentile(latencies, 50), 3),
  p99_ms: round(percentile(latencies, 99), 3),
  max_ms: round(Math.max(...latencies), 3),
  seconds: round((now() - started) / 1000),
});
process.exit(0);
