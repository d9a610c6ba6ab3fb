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

const TREE = `query($id: ID!) { execution(id: $id) {
  tags { key value }
  children(first: 10) { nodes {
    id workflowId status attempt retryOf parentExecutionId rootExecutionId error { code } tags { key value } retries { id }
  } }
} }`;
type Tree = {
  execution: {
    tags: { key: string; value: string }[];
    children: {
      nodes: {
        id: string;
        status: string;
        attempt: number;
        retryOf: string | null;
        rootExecutionId: string;
        retries: { id: string }[];
      }[];
    };
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
    // It writes its output as log lines: some coloured, its error on stderr.
    const logs = ok(
      await s.gql<{ execution: { logs: { stream: string; level: string | null; text: string }[] } }>(
        'query($id: ID!) { execution(id: $id) { logs { stream level text } } }',
        { id },
      ),
    ).execution.logs;
    expect(logs.length).toBeGreaterThanOrEqual(14);
    expect(logs.some((l) => l.text.includes('\x1b[32m'))).toBe(true);
    expect(logs.filter((l) => l.stream === 'stderr')).toEqual([
      { stream: 'stderr', level: 'ERROR', text: expect.stringContaining('row 17 has no customer id') },
    ]);
  });

  it('tags its run and starts two children in the load step, one of them retried once', async () => {
    const r = await worker(['--url', s.url, '--delay', '5']);
    expect(r.code, r.out).toBe(0);
    const id = idIn(r.out);
    expect(r.out).toContain(`npx vigil get ${id}`);
    const { execution: e } = ok(await s.gql<Tree>(TREE, { id }));
    expect(e.tags).toEqual([
      { key: 'pipeline', value: 'orders' },
      { key: 'schedule', value: 'nightly' },
      { key: 'team', value: 'data' },
      { key: 'warehouse', value: 'wh-2' }, // set by a tags event in the load step
    ]);
    // oldest first: the EU load's failed first attempt, its retry, the US load
    const [failed, retried, us] = [...e.children.nodes].reverse();
    expect(e.children.nodes).toHaveLength(3);
    expect(failed).toMatchObject({
      workflowId: 'warehouse-load',
      status: 'FAILED',
      attempt: 1,
      retryOf: null,
      error: { code: 'LOCK_TIMEOUT' },
      tags: [
        { key: 'region', value: 'eu' },
        { key: 'team', value: 'data' },
      ],
      retries: [{ id: retried?.id }],
    });
    expect(retried).toMatchObject({ status: 'COMPLETED', attempt: 2, retryOf: failed?.id, parentExecutionId: id });
    expect(us).toMatchObject({ status: 'COMPLETED', attempt: 1, retries: [], tags: [{ value: 'us' }, {}] });
    for (const child of e.children.nodes) expect(child.rootExecutionId).toBe(id);
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
