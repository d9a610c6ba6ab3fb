/**
 * Opens and holds N long-lived connections against one Vigil process — executionEvents subscriptions over
 * graphql-sse, waits (GraphQL `waitForExecution` and seed 000, half each), or log followers (`GET …/logs?follow=true`)
 * — prints {"ready": n} once all are open, then closes them when a line arrives on stdin.
 *   --kind sse|wait|logs  --n connections  --executions how many executions they spread over
 */
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { argv, createExecutions, report, sse, wait, waitRest } from './common.js';

const base = argv('base', 'http://127.0.0.1:4000');
const kind = argv('kind', 'sse');
const n = Number(argv('n', '1000'));
const spread = Number(argv('executions', String(Math.min(n, 1000))));
const ids = await createExecutions(base, spread, `hold-${kind}`);
const SUB = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 3600) { sequence } }';

const closers: (() => void)[] = [];
let failed = 0;
const started = performance.now();
for (let i = 0; i < n; i += 200) {
  const batch: Promise<unknown>[] = [];
  for (let j = i; j < Math.min(n, i + 200); j++) {
    const id = ids[j % ids.length] as string;
    if (kind === 'logs') {
      const opened = new Promise<void>((resolve, reject) => {
        const req = request(
          `${base}/api/v1/executions/${id}/logs?follow=true&timeout=3600`,
          { agent: false },
          (res) => {
            if (res.statusCode === 200) resolve();
            else reject(new Error(`logs answered ${res.statusCode}`));
            res.resume();
          },
        );
        req.on('error', reject);
        req.end();
        closers.push(() => req.destroy());
      });
      batch.push(opened.catch(() => failed++));
    } else if (kind === 'sse') {
      const h = sse(base, SUB, { id }, () => {});
      closers.push(h.close);
      batch.push(h.opened.catch(() => failed++));
    } else {
      // As the target says: waitForExecution and seed 000 waits, half each.
      batch.push(Promise.resolve());
      (j % 2 === 0 ? wait : waitRest)(base, id, 3600).catch(() => failed++);
    }
  }
  await Promise.all(batch);
}
if (kind === 'wait') await new Promise((r) => setTimeout(r, 2000)); // let every request reach the server
report({ ready: n - failed, failed, seconds: Math.round(performance.now() - started) / 1000 });
createInterface({ input: process.stdin }).once('line', () => {
  for (const close of closers) close();
  process.exit(0);
});
