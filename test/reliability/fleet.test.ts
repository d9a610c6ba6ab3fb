import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { newDatabaseUrl } from '../support/harness.js';
import { gqlAt, spawnVigil, type VigilProcess } from '../support/process.js';
import { percentile } from '../support/stats.js';
import { collect, subscribe, take } from '../support/subscribe.js';

const gql = <T>(p: VigilProcess, query: string, variables: Record<string, unknown> = {}) =>
  gqlAt<T>(p.url, query, variables);
const create = (p: VigilProcess) =>
  gql<{ createExecution: { id: string } }>(p, 'mutation { createExecution(input: {workflowId: "fleet"}) { id } }').then(
    (d) => d.createExecution.id,
  );
const cancel = (p: VigilProcess, id: string) =>
  gql(p, 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED) { success } }', { id });
const progress = (p: VigilProcess, id: string, percentage: number) =>
  gql(
    p,
    'mutation($id: ID!, $p: Float!) { recordExecutionEvents(executionId: $id, events: [{progress: {percentage: $p}}]) { events { sequence } } }',
    {
      id,
      p: percentage,
    },
  );

describe('two server processes on one PostgreSQL act as one', () => {
  let a: VigilProcess;
  let b: VigilProcess;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    [a, b] = await Promise.all([spawnVigil({ DATABASE_URL: url }), spawnVigil({ DATABASE_URL: url })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });
  // A failure here is a wake one instance missed: what both servers logged at warn or above says why.
  beforeEach(() =>
    onTestFailed(() => {
      for (const [name, p] of [
        ['A', a],
        ['B', b],
      ] as const) {
        const warned = p
          .output()
          .split('\n')
          .filter((line) => /"level":(4|5|6)0/.test(line));
        console.log(`instance ${name} logged ${warned.length} warning(s):\n${warned.join('\n')}`);
      }
    }),
  );

  it('wakes a wait held on A when B makes the execution terminal, within 2 s every time (100 wakes)', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const id = await create(b);
      const waited = gql<{ waitForExecution: { completed: boolean } }>(
        a,
        'query($id: ID!) { waitForExecution(id: $id, timeout: 10) { completed } }',
        { id },
      );
      await new Promise((r) => setTimeout(r, 15));
      const started = performance.now();
      await cancel(b, id);
      const result = await waited;
      latencies.push(performance.now() - started);
      expect(result.waitForExecution.completed).toBe(true);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `cross-instance wake (waitForExecution): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length}`,
    );
    expect(Math.max(...latencies)).toBeLessThan(2000);
  });

  it('streams to a subscriber on A every event written through B, in order', async () => {
    const id = await create(b);
    const sub = subscribe<{ executionEvents: { sequence: number } }>(
      a.url,
      'graphql-sse-distinct',
      'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 30) { sequence } }',
      { id },
    );
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const started = performance.now();
      await progress(b, id, i);
      const [r] = await take(sub, 1);
      latencies.push(performance.now() - started);
      expect(r?.data?.executionEvents.sequence).toBe(i);
    }
    await cancel(b, id);
    expect((await collect(sub)).map((r) => r.data?.executionEvents.sequence)).toEqual([21]);
    console.log(
      `cross-instance event delivery (executionEvents): p50 ${percentile(latencies, 50).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(Math.max(...latencies)).toBeLessThan(2000);
  });

  it('tells an executionUpdated subscriber on A about changes made through B', async () => {
    const sub = subscribe<{ executionUpdated: { id: string; status: string } }>(
      a.url,
      'yoga-sse',
      'subscription { executionUpdated(filter: {workflowId: "fleet"}) { id status } }',
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const id = await create(b);
    const [created] = await take(sub, 1);
    expect(created?.data?.executionUpdated).toEqual({ id, status: 'PENDING' });
    await cancel(b, id);
    const [cancelled] = await take(sub, 1);
    expect(cancelled?.data?.executionUpdated).toEqual({ id, status: 'CANCELLED' });
    expect(performance.now() - started).toBeLessThan(2000);
    await sub.close();
  });

  it('wakes REST waits (seeds 000 and 001) and the seed 002 stream held on A when B changes the execution', async () => {
    const id = await create(b);
    const started = performance.now();
    const w000 = fetch(`${a.url}/api/v1/executions/${id}/wait`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout: 10 }),
    }).then(async (r) => ({ at: performance.now(), body: (await r.json()) as { completed: boolean } }));
    const w001 = fetch(`${a.url}/workflows/executions/${id}/wait?timeoutMs=10000`).then(async (r) => ({
      at: performance.now(),
      body: (await r.json()) as { status: string },
    }));
    const stream = fetch(`${a.url}/api/v1/executions/${id}/events?timeout=10`).then(async (r) => ({
      text: await r.text(),
      at: performance.now(),
    }));
    await new Promise((r) => setTimeout(r, 300));
    await progress(b, id, 10);
    const changed = performance.now();
    await cancel(b, id);
    const [a000, a001, s002] = await Promise.all([w000, w001, stream]);
    expect(a000.body.completed).toBe(true);
    expect(a001.body.status).toBe('cancelled');
    expect(s002.text).toContain('event: progress');
    expect(s002.text).toContain('id: 2');
    for (const at of [a000.at, a001.at, s002.at]) expect(at - changed).toBeLessThan(2000);
    expect(performance.now() - started).toBeLessThan(5000);
  }, 20_000);

  it('needs no sticky sessions: an execution created on A is read, waited on and cancelled through B', async () => {
    const id = await create(a);
    const read = await gql<{ execution: { id: string } }>(b, 'query($id: ID!) { execution(id: $id) { id } }', { id });
    expect(read.execution.id).toBe(id);
    await cancel(b, id);
    const waited = await gql<{ waitForExecution: { completed: boolean } }>(
      a,
      'query($id: ID!) { waitForExecution(id: $id, timeout: 5) { completed } }',
      { id },
    );
    expect(waited.waitForExecution.completed).toBe(true);
  });
});
