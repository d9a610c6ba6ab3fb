import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, startTestServer, type TestServer } from '../support/harness.js';
import { freePort } from '../support/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npx tsx examples/worker.ts ARGS` (as the README says) to its end. */
function worker(args: string[], onLine?: (line: string) => void) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/worker.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    for (const line of String(d).split('\n')) if (line) onLine?.(line);
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, out })),
  );
}

const idIn = (out: string) => /created execution ([0-9a-f-]{36})/.exec(out)?.[1] ?? '';

const GET = `query($id: ID!) { execution(id: $id) {
  status workflowId progress { percentage } error { code }
  stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
  steps { id status } lastSequence
} }`;
type Got = {
  execution: {
    status: string;
    workflowId: string;
    progress: { percentage: number } | null;
    error: { code: string } | null;
    stats: Record<string, number>;
    steps: { id: string; status: string }[];
  };
};

describe('examples/worker.ts', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s?.close());

  it('creates an execution and reports steps, messages and progress through to COMPLETED', async () => {
    const r = await worker(['--url', s.url, '--delay', '5']);
    expect(r.code, r.out).toBe(0);
    const id = idIn(r.out);
    expect(r.out).toContain(`npx vigil watch ${id}`);
    const e = ok(await s.gql<Got>(GET, { id })).execution;
    expect(e).toMatchObject({ status: 'COMPLETED', workflowId: 'nightly-etl', progress: { percentage: 100 } });
    expect(e.stats).toMatchObject({
      totalMessages: 10,
      completedMessages: 9,
      failedMessages: 1,
      inProgressMessages: 0,
    });
    expect(e.steps.map((st) => `${st.id}:${st.status}`)).toEqual([
      'extract:COMPLETED',
      'transform:COMPLETED',
      'load:COMPLETED',
    ]);
  });

  it('ends FAILED with --fail', async () => {
    const r = await worker(['--url', s.url, '--delay', '5', '--fail']);
    expect(r.code, r.out).toBe(0);
    const e = ok(await s.gql<Got>(GET, { id: idIn(r.out) })).execution;
    expect(e).toMatchObject({ status: 'FAILED', error: { code: 'WAREHOUSE_UNAVAILABLE' } });
  });

  it('stops when its execution is cancelled from outside', async () => {
    let cancelled = false;
    const r = await worker(['--url', s.url, '--delay', '100'], (line) => {
      const id = idIn(line);
      if (id && !cancelled) {
        cancelled = true;
        void s.gql(`mutation { updateExecutionStatus(id: "${id}", status: CANCELLED) { success } }`);
      }
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('stopped from outside');
    expect(ok(await s.gql<Got>(GET, { id: idIn(r.out) })).execution.status).toBe('CANCELLED');
  });

  it('says how to start Vigil when none is running', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await worker(['--url', url, '--delay', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`is Vigil running at ${url}?`);
  });
});
