/**
 * Creates N × K executions and prints {"created": …}; on a line on stdin, holds N `waitForExecutions` of K ids each
 * against one Vigil process (each on its own connection) and prints {"ready": n} once the server holds them all; on
 * the next line, ends K − 1 of each wait's executions, then, one waiter at a time, sends the request that ends the
 * last one and measures from that send to the waiter's answer; then the same for 100 single `waitForExecution`s,
 * as an anchor taken under the same load. The executions are created through another instance (`--create-base`),
 * so the process measured has served nothing but a warm-up before the waits arrive.
 *   --n waiters  --k ids per wait
 */
import { createInterface } from 'node:readline';
import { argv, completed, createExecutions, graphql, now, percentile, rawPost, report, round, wait } from './common.js';

const base = argv('base', 'http://127.0.0.1:4000');
const createBase = argv('create-base', base);
const n = Number(argv('n', '1000'));
const k = Number(argv('k', '10'));
const COMPLETE = `mutation($id: ID!) {
  recordExecutionEvents(executionId: $id, events: [{statusChanged: {to: COMPLETED}}]) { execution { status } }
}`;
const WAIT = `query($ids: [ID!], $t: Float) {
  waitForExecutions(ids: $ids, timeout: $t) { completed executions { id status } }
}`;

const ids = await createExecutions(createBase, n * k, 'wait-many');
const singles = await createExecutions(createBase, 100, 'wait-one');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
report({ created: ids.length });
await lines.next();
const groups = Array.from({ length: n }, (_, i) => ids.slice(i * k, (i + 1) * k));
let failed = 0;
const answers = groups.map((group) =>
  rawPost(base, '/graphql', JSON.stringify({ query: WAIT, variables: { ids: group, t: 3600 } }), { clock: now })
    .then(completed)
    .catch((err) => {
      failed++;
      process.stderr.write(`[wait-many] ${err}\n`);
      return Number.NaN;
    }),
);

/** Until the server holds every wait (its open-waiters gauge) and has read their executions. */
async function held(count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (Number(/^vigil_open_waiters (\d+)/m.exec(text)?.[1] ?? 0) >= count - failed) break;
    if (Date.now() > deadline) throw new Error(`the server did not hold ${count} waiters within 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000));
}

await held(n);
report({ ready: n - failed, failed });
await lines.next();

const complete = (id: string) => graphql(base, COMPLETE, { id });
const first = groups.flatMap((g) => g.slice(0, -1));
for (let i = 0; i < first.length; i += 50) await Promise.all(first.slice(i, i + 50).map(complete));
await new Promise((r) => setTimeout(r, 1000));
const latencies: number[] = [];
for (const [i, group] of groups.entries()) {
  const t0 = now();
  await complete(group.at(-1) as string);
  const at = await answers[i];
  if (at !== undefined && Number.isFinite(at)) latencies.push(at - t0);
}
const singleAnswers = singles.map((id) => wait(base, id, 600));
await held(singles.length);
const single: number[] = [];
for (const [i, id] of singles.entries()) {
  const t0 = now();
  await complete(id);
  single.push((await (singleAnswers[i] as Promise<number>)) - t0);
}
report({
  single_p50_ms: round(percentile(single, 50), 3),
  single_p99_ms: round(percentile(single, 99), 3),
  samples: latencies.length,
  failed,
  p50_ms: round(percentile(latencies, 50), 3),
  p99_ms: round(percentile(latencies, 99), 3),
  max_ms: round(Math.max(...latencies), 3),
});
process.exit(0);
