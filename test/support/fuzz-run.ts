import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { summarize, type Violation } from './fuzz-contract.js';
import { type FuzzRequest, type FuzzResponse, send } from './fuzz-http.js';
import type { TestServer } from './harness.js';
import { rest } from './rest.js';

/** Cases per surface: a bounded number in the suite, 10,000 with `npm run fuzz`. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** The run's seed: random unless `FUZZ_SEED` replays one; printed with every failure. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A test timeout that fits the run: 50–100 ms a case on average on a loaded machine, plus the cases that wait. */
export function fuzzTimeout(runs = FUZZ_RUNS): number {
  return 60_000 + runs * 300;
}

export interface FuzzOutcome {
  violations: Violation[];
  /** Responses by status (or failure), to show what the run reached. */
  statuses: Record<string, number>;
  /** A failure message: the seed, how to replay it, and each kind of finding with one request to replay. */
  report: string;
}

/**
 * Sends `runs` generated requests (fast-check, seeded) and checks each response with `check`. Every violation is
 * kept, not only the first, so one run lists all the kinds of findings.
 */
export async function fuzz(
  s: TestServer,
  requests: fc.Arbitrary<FuzzRequest>,
  check: (req: FuzzRequest, res: FuzzResponse) => Violation[],
  runs = FUZZ_RUNS,
  seed = FUZZ_SEED,
): Promise<FuzzOutcome> {
  const violations: Violation[] = [];
  const statuses: Record<string, number> = {};
  const millis: Record<string, number> = {};
  let done = 0;
  const progress = (line: string) => {
    if (process.env.FUZZ_LOG) appendFileSync(process.env.FUZZ_LOG, `${new Date().toISOString()} ${s.kind} ${line}\n`);
  };
  await fc.assert(
    fc.asyncProperty(requests, async (req) => {
      const started = performance.now();
      const res = await send(s.url, req);
      const key = String(res.status ?? res.failure);
      statuses[key] = (statuses[key] ?? 0) + 1;
      millis[key] = (millis[key] ?? 0) + Math.round(performance.now() - started);
      for (const v of check(req, res)) {
        if (!violations.some((seen) => seen.kind === v.kind))
          progress(`new: ${v.kind}\n    ${v.example.slice(0, 1_500)}`);
        violations.push(v);
      }
      if (++done % 500 === 0)
        progress(`${done}/${runs} cases, ${violations.length} violations, ms by status ${JSON.stringify(millis)}`);
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  const report = `${violations.length} violations in ${runs} cases on ${s.kind}; seed ${seed} (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}); statuses ${JSON.stringify(statuses)}; ms ${JSON.stringify(millis)}\n${summarize(violations)}`;
  progress(report);
  return { violations, statuses, report };
}

/** Executions in every kind of state, so that generated ids reach real rows (terminal ones answer waits at once). */
export async function seedExecutions(s: TestServer, headers: Record<string, string> = {}): Promise<string[]> {
  const create = async (input: Record<string, unknown>) => {
    const r = await rest<{ id: string }>(s, 'POST', '/api/v1/executions', { json: input, headers });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id;
  };
  const record = async (id: string, events: unknown[]) => {
    const r = await rest(s, 'POST', `/api/v1/executions/${id}/events`, { json: { events }, headers });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  const ids = [await create({ workflowId: 'fuzz-pending', inputs: { a: [1, 'two', null] } })];
  const running = await create({ workflowId: 'fuzz-running', metadata: { k: 'v' } });
  await record(running, [
    { statusChanged: { to: 'RUNNING' } },
    { message: { messageId: 'm1', status: 'INITIATED', adapter: 'a' } },
    { step: { stepId: 's1', name: 'step one', status: 'RUNNING' } },
    { progress: { step: 's1', percentage: 40 } },
  ]);
  ids.push(running);
  const outcomes = [
    { to: 'COMPLETED', output: { result: [1, 2, 3] } },
    { to: 'FAILED', error: { code: 'E_FUZZ', message: 'failed on purpose', step: 's1', details: { n: 1 } } },
    { to: 'CANCELLED' },
    { to: 'COMPLETED' },
  ];
  for (const statusChanged of outcomes) {
    const id = await create({ workflowId: 'fuzz-terminal', idempotencyKey: `k-${statusChanged.to}-${ids.length}` });
    await record(id, [
      { statusChanged: { to: 'RUNNING' } },
      { message: { messageId: 'm1', status: 'INITIATED' } },
      { message: { messageId: 'm1', status: 'COMPLETED' } },
      { step: { stepId: 's1', status: 'COMPLETED', outputs: { rows: 3 } } },
      { statusChanged },
    ]);
    ids.push(id);
  }
  return ids;
}
