/**
 * An example worker: it creates an execution and reports what it does to Vigil through the SDK (status, progress,
 * steps and message events), the way a real pipeline would. Its run is tagged, and its load step starts two child
 * executions (one per region, tagged too); the first attempt of the EU load fails and a retry (attempt 2) completes.
 * Run it against a running Vigil and watch the execution in the dashboard (http://127.0.0.1:4000) or with
 * `npx vigil watch ID`; `npx vigil get ID` shows its tags and children, `npx vigil list --tag team=data` finds them:
 *
 *   npx tsx examples/worker.ts                 # about 20 s, ends COMPLETED
 *   npx tsx examples/worker.ts --fail          # ends FAILED in the load step
 *   npx tsx examples/worker.ts --delay 50      # faster
 *
 * Options: --url (default $VIGIL_URL or http://127.0.0.1:4000), --key ($VIGIL_API_KEY), --env (test|live).
 * If the execution is cancelled meanwhile (dashboard or `npx vigil cancel ID`), the next report is refused, the
 * run's signal aborts and the worker stops.
 */
import { parseArgs } from 'node:util';
import { createVigil, ExecutionStoppedError, type Run, VigilApiError } from '../src/client/sdk/index.js';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.VIGIL_URL ?? 'http://127.0.0.1:4000' },
    key: { type: 'string', default: process.env.VIGIL_API_KEY },
    env: { type: 'string' },
    delay: { type: 'string', default: '700' },
    fail: { type: 'boolean', default: false },
    workflow: { type: 'string', default: 'nightly-etl' },
  },
});
const base = opts.url.replace(/\/+$/, '');
const delay = Number(opts.delay);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The SDK (`vigil/client`; imported from the source here, as the checkout has it) does the talking: reports are
 * batched and retried without duplicates, heartbeats go out on their own, and a cancel aborts `run.signal`.
 */
const vigil = createVigil({
  url: base,
  ...(opts.key ? { apiKey: opts.key } : {}),
  ...(opts.env === 'test' || opts.env === 'live' ? { environment: opts.env } : {}),
  retryForMs: 5000,
});

const STEPS = [
  { id: 'extract', name: 'Extract orders', type: 'source', messages: 4 },
  { id: 'transform', name: 'Transform', type: 'transform', messages: 3 },
  { id: 'load', name: 'Load warehouse', type: 'sink', messages: 3 },
];

/** A line of the worker's output (API.md §8): as a program writes it, ANSI colours and all; stderr for its errors. */
const out = (run: Run, text: string, level?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR') =>
  run.log(`${text}\n`, level ? { level } : {});
const err = (run: Run, text: string) => run.log(`\x1b[31m${text}\x1b[0m\n`, { stream: 'stderr', level: 'ERROR' });
const bold = (text: string) => `\x1b[1m${text}\x1b[0m`;

const tags = (pairs: Record<string, string>) => Object.entries(pairs).map(([key, value]) => ({ key, value }));

/**
 * A child execution of the run: loads one region's rows into the warehouse. The EU load's first attempt fails (a
 * lock timeout) and is retried once: the retry names it with `retryOf`, so it is attempt 2 under the same parent.
 */
async function loadRegion(parentId: string, region: string): Promise<void> {
  const input = { workflowId: 'warehouse-load', parentExecutionId: parentId, tags: tags({ team: 'data', region }) };
  let child = await vigil.startExecution(input);
  for (;;) {
    console.log(`  child ${child.id}  warehouse-load region=${region} attempt ${child.execution.attempt}`);
    await child.progress(50, 'copy');
    await sleep(delay);
    if (region === 'eu' && child.execution.attempt === 1) {
      const error = { code: 'LOCK_TIMEOUT', message: 'the orders_eu table stayed locked for 30 s', step: 'copy' };
      await child.fail(error);
      console.log(`  child ${child.id}  failed (${error.code}); retrying`);
      child = await vigil.startExecution({ ...input, retryOf: child.id });
      continue;
    }
    void child.progress(100, 'copy');
    await child.complete({ region, rows: 490 });
    return;
  }
}

async function main(): Promise<void> {
  const run = await vigil.startExecution(
    {
      workflowId: opts.workflow,
      workflowVersion: '1.4.0',
      trigger: { type: 'schedule', eventType: 'cron' },
      inputs: { date: new Date().toISOString().slice(0, 10), source: 'orders' },
      metadata: { host: 'example-worker' },
      heartbeatTimeoutSeconds: 60,
      tags: tags({ team: 'data', pipeline: 'orders', schedule: 'nightly' }),
    },
    { running: false },
  );
  const { id } = run;
  console.log(`created execution ${id}`);
  console.log(`  dashboard: ${base}/#/executions/${id}`);
  console.log(`  terminal:  npx vigil watch ${id}    (or: npx vigil wait ${id})`);
  console.log(`  output:    npx vigil watch --logs ${id}    npx vigil logs --follow ${id}`);
  console.log(`             curl -N '${base}/api/v1/executions/${id}/logs?follow=true'`);
  console.log(`  its tree:  npx vigil get ${id}    npx vigil list --parent ${id}`);
  await sleep(delay * 2);

  void run.report({ statusChanged: { to: 'RUNNING' } });
  void run.progress(0, 'starting');
  await out(run, `example-worker 1.4.0 on ${process.platform}/${process.arch}, node ${process.version}`, 'INFO');
  const total = STEPS.reduce((n, s) => n + s.messages, 0);
  let done = 0;
  for (const step of STEPS) {
    void run.step({ stepId: step.id, name: step.name, type: step.type, status: 'RUNNING' });
    await out(run, bold(`==> ${step.name}`), 'INFO');
    if (step.id === 'load') {
      // The worker learns where it loads only now: a `tags` event adds it to the run's tags
      await run.tags({ set: { warehouse: 'wh-2' } });
      for (const region of ['eu', 'us']) await loadRegion(id, region);
    }
    for (let m = 1; m <= step.messages; m++) {
      const messageId = `${step.id}-${m}`;
      await run.message({ messageId, adapter: step.type, status: 'INITIATED' });
      await sleep(delay);
      const failing = step.id === 'transform' && m === 2; // one message fails; the run goes on
      if (opts.fail && step.id === 'load' && m === 2) {
        const error = { code: 'WAREHOUSE_UNAVAILABLE', message: 'warehouse refused the connection', step: step.id };
        void run.message({ messageId, adapter: step.type, status: 'FAILED', error });
        void run.step({ stepId: step.id, status: 'FAILED', error });
        void err(run, `error: ${error.message} (${error.code})`);
        await run.fail(error);
        console.log(`failed in ${step.id}: ${error.message}`);
        return;
      }
      done++;
      const percentage = Math.round((done / total) * 100);
      if (failing) {
        const error = { code: 'BAD_ROW', message: 'row 17 has no customer id' };
        void run.message({ messageId, adapter: step.type, status: 'FAILED', error });
        void err(run, `${step.id}: message ${messageId}: row 17 has no customer id; skipped`);
      } else {
        void run.message({ messageId, adapter: step.type, status: 'COMPLETED' });
        void out(run, `${step.id}: message ${messageId}: 100 rows \x1b[32mok\x1b[0m`);
      }
      await run.progress(percentage, step.name);
      console.log(
        `${String(percentage).padStart(3)}%  ${step.name}: message ${messageId} ${failing ? 'FAILED' : 'ok'}`,
      );
    }
    await run.step({
      stepId: step.id,
      status: 'COMPLETED',
      rowCounts: { in: step.messages * 100, out: step.messages * 98 },
    });
  }
  void out(run, '\x1b[32m✔ done:\x1b[0m 980 rows loaded, 1 warning', 'INFO');
  await run.complete({ rows: 980, warnings: 1 });
  console.log(`completed execution ${id}`);
}

main()
  .catch((err) => {
    if (err instanceof ExecutionStoppedError) {
      console.log(`the execution was stopped from outside (${err.executionStatus}); stopping`);
      return;
    }
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    console.error(`worker: ${err instanceof Error ? err.message : err}${cause ? ` (${cause})` : ''}`);
    if (err instanceof VigilApiError && err.code === 'CONNECTION') {
      console.error(`is Vigil running at ${base}? Start it with: npm start`);
    }
    process.exitCode = 1;
  })
  .finally(() => vigil.close());
