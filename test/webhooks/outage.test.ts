import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, type TestServer } from '../support/harness.js';
import { type Received, type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, createWebhook, deliveries, eventually, startHookServer } from './support.js';

/**
 * Seconds the receiver is down, and the backoff: scaled down 50× from the defaults' base (10 s → 200 ms), capped at
 * 2 s. A longer run with the production schedule:
 * VIGIL_TEST_OUTAGE_SECONDS=180 VIGIL_TEST_RETRY_BASE_MS=10000 VIGIL_TEST_RETRY_MAX_MS=3600000 npx vitest run test/webhooks/outage
 */
const OUTAGE_S = Number(process.env.VIGIL_TEST_OUTAGE_SECONDS ?? 10);
const BASE_MS = process.env.VIGIL_TEST_RETRY_BASE_MS ?? '200';
const MAX_MS = process.env.VIGIL_TEST_RETRY_MAX_MS ?? '2000';

describe.each(DB_KINDS)(`a ${OUTAGE_S} s receiver outage on %s`, (kind) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind, {
      env: { VIGIL_WEBHOOK_RETRY_BASE_MS: BASE_MS, VIGIL_WEBHOOK_RETRY_MAX_MS: MAX_MS },
    });
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it(
    'loses nothing, keeps per-execution order, delivers each once, and drains soon after recovery',
    async () => {
      rx = await startReceiver();
      const port = Number(new URL(rx.url).port);
      const hook = await createWebhook(s, { url: rx.url, events: ['execution.status_changed'] });
      await rx.close(); // down: connections refused
      const outageStarted = performance.now();

      // Traffic during the outage: 20 executions × 3 status changes, spread over its first half.
      const ids: string[] = [];
      const steps = [{ to: 'RUNNING' }, { to: 'WAITING_FOR_INPUT' }, { to: 'RUNNING' }];
      for (let i = 0; i < 20; i++) {
        const { id } = await createExecution(s, { workflowId: 'outage' });
        ids.push(id);
        for (const to of steps) ok(await record(s, id, [{ statusChanged: to }]));
        await new Promise((r) => setTimeout(r, (OUTAGE_S * 500) / 20));
      }
      for (const id of ids) ok(await s.gql(COMPLETE, { id }));
      const expected = ids.length * (steps.length + 1);
      const rest = OUTAGE_S * 1000 - (performance.now() - outageStarted);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));

      const during = await deliveries(s, hook.id);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      const depth = Number(/^vigil_webhook_queue_depth (\S+)$/m.exec(metrics)?.[1]);
      const oldest = Number(/^vigil_webhook_oldest_pending_age_seconds (\S+)$/m.exec(metrics)?.[1]);
      expect(during).toHaveLength(expected);
      expect(during.every((d) => d.status === 'PENDING')).toBe(true);
      expect(depth).toBe(expected);
      expect(oldest).toBeGreaterThan(OUTAGE_S * 0.8);

      rx = await startReceiver(() => ({ status: 200 }), port); // back
      const recovered = performance.now();
      const got = await rx.waitFor(expected, (r) => r.status === 200, 30_000 + OUTAGE_S * 1000);
      const drainMs = Math.max(...got.map((r) => r.at)) - recovered;
      const firstMs = Math.min(...got.map((r) => r.at)) - recovered;
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now

      // Each delivery exactly once (the receiver answered 200 to each first request it saw).
      const byDelivery = new Map<string, number>();
      for (const r of rx.received) byDelivery.set(r.body.id, (byDelivery.get(r.body.id) ?? 0) + 1);
      expect(byDelivery.size).toBe(expected);
      expect([...byDelivery.values()].every((n) => n === 1)).toBe(true);
      // In order per execution.
      const byExecution = new Map<string, Received[]>();
      for (const r of rx.received) {
        const id = r.body.data.execution.id as string;
        byExecution.set(id, [...(byExecution.get(id) ?? []), r]);
      }
      for (const list of byExecution.values()) {
        expect(list.map((r) => r.body.data.execution.status)).toEqual([
          'RUNNING',
          'WAITING_FOR_INPUT',
          'RUNNING',
          'COMPLETED',
        ]);
      }
      const final = await eventually(
        () => deliveries(s, hook.id),
        (l) => l.every((d) => d.status === 'SUCCEEDED'),
      );
      const attempts = final.map((d) => d.attemptCount);
      const oldestDelivery = final.at(-1); // newest first
      const t0 = Date.parse(oldestDelivery?.attempts[0]?.startedAt ?? '');
      const timeline = oldestDelivery?.attempts.map((a) => `+${((Date.parse(a.startedAt) - t0) / 1000).toFixed(1)}`);
      console.log(
        `outage ${OUTAGE_S} s on ${kind} (retry base ${BASE_MS} ms, cap ${MAX_MS} ms): ${expected} deliveries queued (oldest ${oldest.toFixed(1)} s), ` +
          `0 lost, 0 duplicates, order kept; after recovery first delivery in ${firstMs.toFixed(0)} ms, all in ${drainMs.toFixed(0)} ms; ` +
          `attempts per delivery max ${Math.max(...attempts)}, total ${attempts.reduce((a, b) => a + b, 0)}; ` +
          `the oldest delivery's attempts at ${timeline?.join(', ')} s`,
      );
    },
    120_000 + OUTAGE_S * 3000,
  );
});
