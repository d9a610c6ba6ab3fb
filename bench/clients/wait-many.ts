/**
 * Creates N × K executions and prints {"created": …}; on a line on stdin, warms the server by opening and closing
 * 100 `waitForExecutions` of K ids and prints {"warmed": true}; on the next, holds HOLD of them against one Vigil
 * process (each on its own connection; wait i on the K ids of group i mod N, so with HOLD = 10 × N each execution is
 * watched by 10 waits, as the user bench's 10,000 waits share 1,000 executions: creating 100,000 takes minutes) and
 * prints {"ready": n} once the server holds them all and has been idle 2 s (the memory figure: HOLD large enough that
 * the heap's own steps are noise beside it); on the next,
 * closes all but N, then ends K − 1 of each remaining wait's executions, then, one waiter at a time, sends the request
 * that ends the last one and measures from that send to the waiter's answer; then the same for 100 single
 * `waitForExecution`s, as an anchor taken under the same load. The executions are created through another instance
 * (`--create-base`), so the process measured has served nothing but a warm-up before the waits arrive.
 * With `--floor BASE` (the bare handler of `bench/user/floor.ts`), each slice of 100 releases is followed by 100
 * releases of waits held on the floor, which ends each by one durable INSERT and answers it (issue 22, item 3): the
 * same release on this machine with nothing but the commit and the socket write, taken under the same load.
 *   --n waiters released  --hold waiters held for the memory figure (≥ n)  --k ids per wait  --floor BASE
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import { argv, completed, createExecutions, graphql, now, percentile, rawPost, report, round, wait } from './common.js';

const base = argv('base', 'http://127.0.0.1:4000');
const createBase = argv('create-base', base);
const floorBase = argv('floor', '');
const n = Number(argv('n', '1000'));
const hold = Math.max(n, Number(argv('hold', String(n))));
const k = Number(argv('k', '10'));
const COMPLETE = `mutation($id: ID!) {
  recordExecutionEvents(executionId: $id, events: [{statusChanged: {to: COMPLETED}}]) { execution { status } }
}`;
/** The floor's end of a wait: one durable INSERT, then the answers to what it holds on the id. */
const FLOOR_END = 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }';
const WAIT = `query($ids: [ID!], $t: Float) {
  waitForExecutions(ids: $ids, timeout: $t) { completed executions { id status } }
}`;

const ids = await createExecutions(createBase, n * k, 'wait-many');
const singles = await createExecutions(createBase, 100, 'wait-one');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
report({ created: ids.length });
await lines.next();
const groups = Array.from({ length: hold }, (_, i) => ids.slice((i % n) * k, ((i % n) + 1) * k));
let failed = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open = (group: string[], stop: AbortSignal) =>
  rawPost(base, '/graphql', JSON.stringify({ query: WAIT, variables: { ids: group, t: 3600 } }), {
    clock: now,
    signal: stop,
  });

/** Until the server's open-waiters gauge satisfies `ok`. */
async function gauge(ok: (held: number) => boolean, what: string, at = base, name = 'vigil'): Promise<void> {
  const deadline = Date.now() + 120_000;
  const pattern = new RegExp(`^${name}_open_waiters (\\d+)`, 'm');
  for (;;) {
    const text = await (await fetch(`${at}/metrics`)).text();
    if (ok(Number(pattern.exec(text)?.[1] ?? 0))) return;
    if (Date.now() > deadline) throw new Error(`the server did not ${what} within 120 s`);
    await sleep(100);
  }
}
const held = (count: number) => gauge((h) => h >= count - failed, `hold ${count} waiters`);

// The warm-up: waits of the same kind opened and closed, so the code and buffers they need exist before the baseline.
const warm = new AbortController();
setMaxListeners(0, warm.signal); // one listener per warm-up request
for (const group of groups.slice(0, 100)) open(group, warm.signal).catch(() => {});
await held(100);
warm.abort();
await gauge((h) => h === 0, 'drop the warm-up waiters');
report({ warmed: true });
await lines.next();

// Opened in slices the server has taken before the next, so no connection meets a full accept queue.
const stops = groups.map(() => new AbortController());
const answers: Promise<number>[] = [];
for (let i = 0; i < hold; i += 500) {
  for (const [j, group] of groups.slice(i, i + 500).entries()) {
    const released = i + j < n;
    answers.push(
      open(group, (stops[i + j] as AbortController).signal)
        .then(completed)
        .catch((err) => {
          if (released || !(stops[i + j] as AbortController).signal.aborted) {
            failed++;
            process.stderr.write(`[wait-many] ${err}\n`);
          }
          return Number.NaN;
        }),
    );
  }
  await held(Math.min(hold, i + 500));
}
await sleep(2000);
report({ ready: hold - failed, failed });
await lines.next();
for (const stop of stops.slice(n)) stop.abort();
await gauge((h) => h <= n, `drop to ${n} waiters`);
await sleep(1000);

const complete = (id: string) => graphql(base, COMPLETE, { id });
const first = groups.slice(0, n).flatMap((g) => g.slice(0, -1));
for (let i = 0; i < first.length; i += 50) await Promise.all(first.slice(i, i + 50).map(complete));
const floorIds = floorBase ? groups.slice(0, n).map(() => randomUUID()) : [];
const floorAnswers = floorIds.map((id) => wait(floorBase, id, 600));
if (floorBase) await gauge((h) => h >= n, `hold ${n} waiters on the floor`, floorBase, 'floor');
await new Promise((r) => setTimeout(r, 1000));
const latencies: number[] = [];
const floor: number[] = [];
// In slices of 100, Vigil's then the floor's: a noisy minute weighs on both, and neither waits on the other per sample.
for (let from = 0; from < n; from += 100) {
  for (let i = from; i < Math.min(n, from + 100); i++) {
    const t0 = now();
    await complete((groups[i] as string[]).at(-1) as string);
    const at = await answers[i];
    if (at !== undefined && Number.isFinite(at)) latencies.push(at - t0);
  }
  for (let i = from; floorBase && i < Math.min(n, from + 100); i++) {
    const f0 = now();
    await graphql(floorBase, FLOOR_END, { id: floorIds[i] });
    floor.push((await (floorAnswers[i] as Promise<number>)) - f0);
  }
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
  ...(floorBase && {
    floor_p50_ms: round(percentile(floor, 50), 3),
    floor_p99_ms: round(percentile(floor, 99), 3),
  }),
});
process.exit(0);
