import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, ok, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, createWebhook, deliveries, eventually, startHookServer } from './support.js';

describe('two instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    a = await startHookServer('postgres', { env: { VIGIL_WEBHOOK_POLL_MS: '10' } });
    b = await startHookServer('postgres', { databaseUrl: a.databaseUrl, env: { VIGIL_WEBHOOK_POLL_MS: '10' } });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await rx?.close();
  });

  it('deliver each event once, never two attempts of a delivery at a time, retries included', async () => {
    // Every delivery fails once, then succeeds: the retry may be claimed by either instance.
    rx.respond = ({ nthForDelivery }) => ({ status: nthForDelivery === 0 ? 503 : 200, delayMs: 20 });
    const hook = await createWebhook(a, { url: rx.url });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await createExecution(i % 2 ? a : b, { workflowId: 'fleet' })).id);
    // Both instances poll every 10 ms, so they race for every row, first attempts and retries alike.
    await Promise.all(ids.map((id, i) => (i % 2 ? b : a).gql(COMPLETE, { id }).then(ok)));

    const got = await rx.waitFor(ids.length, (r) => r.status === 200, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now
    const successes = rx.received.filter((r) => r.status === 200);
    expect(successes).toHaveLength(ids.length);
    expect(new Set(got.map((r) => r.body.data.execution.id)).size).toBe(ids.length);
    expect(rx.received).toHaveLength(2 * ids.length); // one 503 and one 200 each
    expect(rx.maxInFlightPerDelivery).toBe(1);
    const list = await eventually(
      () => deliveries(a, hook.id),
      (l) => l.length === ids.length && l.every((d) => d.status === 'SUCCEEDED'),
    );
    expect(list.every((d) => d.attemptCount === 2 && d.attempts.length === 2)).toBe(true);
    // Both instances took part: each one's /metrics counts attempts it made.
    const attemptsOf = async (s: TestServer) => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return [...text.matchAll(/^vigil_webhook_attempts_total\{outcome="\w+"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    };
    const [fromA, fromB] = [await attemptsOf(a), await attemptsOf(b)];
    console.log(`two instances: ${fromA} attempts by A, ${fromB} by B, ${ids.length} events each delivered once`);
    expect(fromA + fromB).toBe(2 * ids.length);
    expect(fromA).toBeGreaterThan(0);
    expect(fromB).toBeGreaterThan(0);
  });
});

describe.each(['pglite', 'postgres'] as const)('bounded concurrency per endpoint on %s', (kind) => {
  let s: TestServer;
  let slow: Receiver;
  let fast: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind, {
      env: { VIGIL_WEBHOOK_ENDPOINT_CONCURRENCY: '3', VIGIL_WEBHOOK_TIMEOUT_MS: '5000' },
    });
    slow = await startReceiver(() => ({ status: 200, delayMs: 1500 }));
    fast = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await slow?.close();
    await fast?.close();
  });

  it('lets a fast receiver through while a slow one holds its slots', async () => {
    await createWebhook(s, { url: slow.url, filter: { workflowId: 'slow' } });
    await createWebhook(s, { url: fast.url, filter: { workflowId: 'fast' } });
    const slowIds = [];
    for (let i = 0; i < 12; i++) slowIds.push((await createExecution(s, { workflowId: 'slow' })).id);
    for (const id of slowIds) ok(await s.gql(COMPLETE, { id }));
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    const fastIds = [];
    for (let i = 0; i < 5; i++) fastIds.push((await createExecution(s, { workflowId: 'fast' })).id);
    for (const id of fastIds) ok(await s.gql(COMPLETE, { id }));
    await fast.waitFor(5, () => true, 1500);
    const fastDone = performance.now() - started;
    expect(slow.received.length).toBeLessThan(12); // the slow receiver is still busy
    await slow.waitFor(12, () => true, 15_000);
    expect(slow.maxConcurrent).toBe(3);
    console.log(
      `per-endpoint bound on ${kind}: 5 deliveries to a fast receiver in ${fastDone.toFixed(0)} ms while a 1.5 s receiver held its 3 slots`,
    );
  });
});
