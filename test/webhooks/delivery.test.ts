import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.js';
import { createExecution, DB_KINDS, ok, record, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { percentile } from '../support/stats.js';
import { COMPLETE, createWebhook, deliveries, eventually, startHookServer } from './support.js';

describe.each(DB_KINDS)('webhook delivery on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind, { env: { VIGIL_SWEEP_INTERVAL_MS: '200' } });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it('delivers a signed execution.terminal within a second of the change, and a tampered body fails', async () => {
    rx.respond = () => ({ status: 200, body: 'thanks' });
    const hook = await createWebhook(s, { url: rx.url, events: ['execution.terminal'] });
    const { id } = await createExecution(s, { workflowId: 'wf-sign' });
    const started = performance.now();
    ok(await s.gql(COMPLETE, { id }));
    const [got] = await rx.waitFor(1, (r) => r.body.data?.execution?.id === id, 1000);
    if (!got) throw new Error('no delivery');
    expect(got.at - started).toBeLessThan(1000);
    expect(got.headers['vigil-event']).toBe('execution.terminal');
    expect(got.headers['vigil-delivery-id']).toBe(got.body.id);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body).toMatchObject({
      type: 'execution.terminal',
      data: { execution: { id, status: 'COMPLETED', workflowId: 'wf-sign' }, previousStatus: 'PENDING' },
    });
    expect(new Date(got.body.createdAt).toISOString()).toBe(got.body.createdAt);
    const signature = String(got.headers['vigil-signature']);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(hook.secret, signature, got.raw)).toBe(true);
    expect(verifySignature(hook.secret, signature, got.raw.replace('COMPLETED', 'FAILED'))).toBe(false);
    expect(verifySignature(`${hook.secret}x`, signature, got.raw)).toBe(false);

    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    expect(d).toMatchObject({ id: got.body.id, attemptCount: 1, lastStatusCode: 200, executionId: id });
    expect(d?.attempts).toMatchObject([{ attempt: 1, statusCode: 200, success: true, responseExcerpt: 'thanks' }]);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('retries a receiver that fails twice: exactly one success, every attempt logged', async () => {
    rx.respond = ({ nthForDelivery }) =>
      nthForDelivery < 2 ? { status: 503, body: `busy ${nthForDelivery}` } : { status: 204 };
    const hook = await createWebhook(s, { url: rx.url });
    const { id } = await createExecution(s);
    ok(await s.gql(COMPLETE, { id }));
    const mine = (r: { body: { data?: { execution?: { id?: unknown } } } }) => r.body.data?.execution?.id === id;
    await rx.waitFor(3, mine, 5000);
    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives after the success
    const got = rx.received.filter(mine);
    expect(got.map((r) => r.status)).toEqual([503, 503, 204]);
    expect(new Set(got.map((r) => r.headers['vigil-delivery-id']))).toEqual(new Set([d?.id]));
    expect(got.map((r) => r.headers['vigil-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(d?.attemptCount).toBe(3);
    expect(d?.attempts.map((a) => [a.attempt, a.statusCode, a.success, a.responseExcerpt])).toEqual([
      [1, 503, false, 'busy 0'],
      [2, 503, false, 'busy 1'],
      [3, 204, true, null],
    ]);
    expect(d?.attempts[0]?.error).toBe('HTTP 503');
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('disables the endpoint when the receiver answers 410 Gone', async () => {
    rx.respond = () => ({ status: 410, body: 'gone' });
    const hook = await createWebhook(s, { url: rx.url });
    const first = await createExecution(s);
    ok(await s.gql(COMPLETE, { id: first.id }));
    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (list) => list[0]?.status === 'FAILED',
    );
    expect(d).toMatchObject({ attemptCount: 1, lastStatusCode: 410 });
    const list = ok(await s.gql<{ webhooks: { id: string; enabled: boolean }[] }>('{ webhooks { id enabled } }'));
    expect(list.webhooks.find((w) => w.id === hook.id)?.enabled).toBe(false);
    // No delivery for a later change, and no redelivery while disabled.
    const second = await createExecution(s);
    ok(await s.gql(COMPLETE, { id: second.id }));
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received.filter((r) => r.body.data?.execution?.id === second.id)).toEqual([]);
    expect(await deliveries(s, hook.id)).toHaveLength(1);
    const again = await s.gql('mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: d?.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('does not follow redirects: a 302 is a failed attempt, retried', async () => {
    rx.respond = ({ nthForDelivery }) =>
      nthForDelivery === 0 ? { status: 302, headers: { location: 'http://169.254.169.254/' } } : { status: 200 };
    const hook = await createWebhook(s, { url: rx.url });
    const { id } = await createExecution(s);
    ok(await s.gql(COMPLETE, { id }));
    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    expect(d?.attempts.map((a) => [a.statusCode, a.error])).toEqual([
      [302, 'redirect (302) not followed'],
      [200, null],
    ]);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('gives up an attempt at its timeout and retries it', async () => {
    rx.respond = ({ nthForDelivery }) => (nthForDelivery === 0 ? { status: 200, delayMs: 4000 } : { status: 200 });
    const hook = await createWebhook(s, { url: rx.url });
    const { id } = await createExecution(s);
    ok(await s.gql(COMPLETE, { id }));
    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
      6000,
    );
    expect(d?.attempts.map((a) => [a.statusCode, a.error])).toEqual([
      [null, 'timed out after 2000 ms'],
      [200, null],
    ]);
    expect(d?.attempts[0]?.durationMs).toBeGreaterThanOrEqual(1990);
    expect(d?.attempts[0]?.durationMs).toBeLessThan(3000);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('keeps the order per execution: a later event waits until the earlier one succeeded', async () => {
    // The first delivery of each execution fails twice; the later ones must not overtake it.
    const failing = new Set<string>();
    rx.respond = ({ deliveryId, nthForDelivery }) => {
      if (nthForDelivery === 0) failing.add(deliveryId);
      return failing.has(deliveryId) && nthForDelivery < 2 ? { status: 500 } : { status: 200 };
    };
    const hook = await createWebhook(s, { url: rx.url, events: ['execution.status_changed'] });
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    ok(await record(s, id, [{ statusChanged: { to: 'WAITING_FOR_INPUT' } }]));
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    ok(await s.gql(COMPLETE, { id }));
    const mine = (r: { status: number; body: { data?: { execution?: { id?: unknown } } } }) =>
      r.status === 200 && r.body.data?.execution?.id === id;
    const ok4 = await rx.waitFor(4, mine, 8000);
    expect(ok4.map((r) => r.body.data.execution.status)).toEqual([
      'RUNNING',
      'WAITING_FOR_INPUT',
      'RUNNING',
      'COMPLETED',
    ]);
    // Every request of this execution (failures included) arrived in sequence order.
    const sequences = rx.received
      .filter((r) => r.body.data?.execution?.id === id)
      .map((r) => r.body.data.execution.lastSequence as number);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('applies the event-type and execution filters, and sends a coalesced batch once', async () => {
    rx.respond = () => ({ status: 200 });
    const hook = await createWebhook(s, {
      url: rx.url,
      events: ['execution.status_changed', 'execution.terminal'],
      filter: { workflowId: 'wf-filtered', status: ['RUNNING', 'FAILED'] },
    });
    const other = await createExecution(s, { workflowId: 'wf-other' });
    ok(await record(s, other.id, [{ statusChanged: { to: 'RUNNING' } }]));
    const a = await createExecution(s, { workflowId: 'wf-filtered' });
    ok(await record(s, a.id, [{ statusChanged: { to: 'RUNNING' } }])); // RUNNING matches
    ok(await record(s, a.id, [{ statusChanged: { to: 'WAITING_FOR_INPUT' } }])); // not in the status filter
    const b = await createExecution(s, { workflowId: 'wf-filtered' });
    // One batch, two status changes: one delivery, with the final state and the status before the batch.
    ok(
      await record(s, b.id, [
        { statusChanged: { to: 'RUNNING' } },
        { statusChanged: { to: 'FAILED', error: { code: 'E', message: 'boom' } } },
      ]),
    );
    const list = await eventually(
      () => deliveries(s, hook.id),
      (l) => l.length >= 2 && l.every((d) => d.status === 'SUCCEEDED'),
    );
    await new Promise((r) => setTimeout(r, 300));
    const all = await deliveries(s, hook.id);
    expect(all).toHaveLength(2);
    expect(
      list.map((d) => [d.executionId, d.type, d.payload.data.execution.status, d.payload.data.previousStatus]),
    ).toEqual([
      [b.id, 'execution.terminal', 'FAILED', 'PENDING'],
      [a.id, 'execution.status_changed', 'RUNNING', 'PENDING'],
    ]);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('delivers what the sweeper does: execution.interrupted on a lost heartbeat, execution.terminal at the deadline', async () => {
    rx.respond = () => ({ status: 200 });
    const hook = await createWebhook(s, { url: rx.url, events: ['execution.interrupted', 'execution.terminal'] });
    const silent = await createExecution(s, { heartbeatTimeoutSeconds: 1 });
    ok(await record(s, silent.id, [{ statusChanged: { to: 'RUNNING' } }]));
    const late = await createExecution(s, { timeoutSeconds: 1 });
    const [interrupted] = await rx.waitFor(1, (r) => r.body.data?.execution?.id === silent.id, 5000);
    const [timedOut] = await rx.waitFor(1, (r) => r.body.data?.execution?.id === late.id, 5000);
    expect(interrupted?.headers['vigil-event']).toBe('execution.interrupted');
    expect(interrupted?.body.data).toMatchObject({ execution: { status: 'INTERRUPTED' }, previousStatus: 'RUNNING' });
    expect(timedOut?.headers['vigil-event']).toBe('execution.terminal');
    expect(timedOut?.body.data).toMatchObject({ execution: { status: 'TIMED_OUT' }, previousStatus: 'PENDING' });
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('redelivers a delivered event with the same id and a fresh signature', async () => {
    rx.respond = () => ({ status: 200 });
    const hook = await createWebhook(s, { url: rx.url });
    const { id } = await createExecution(s);
    ok(await s.gql(COMPLETE, { id }));
    const [d] = await eventually(
      () => deliveries(s, hook.id),
      (l) => l[0]?.status === 'SUCCEEDED',
    );
    const res = ok(
      await s.gql<{ redeliverWebhook: { id: string; status: string } }>(
        'mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }',
        { id: d?.id },
      ),
    );
    expect(res.redeliverWebhook).toEqual({ id: d?.id, status: 'PENDING' });
    const got = await rx.waitFor(2, (r) => r.headers['vigil-delivery-id'] === d?.id, 2000);
    expect(got[1]?.raw).toBe(got[0]?.raw);
    expect(verifySignature(hook.secret, String(got[1]?.headers['vigil-signature']), got[1]?.raw ?? '')).toBe(true);
    const [after] = await eventually(
      () => deliveries(s, hook.id),
      (l) => l[0]?.status === 'SUCCEEDED' && l[0].attemptCount === 2,
    );
    expect(after?.attempts.map((a) => a.success)).toEqual([true, true]);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });

  it('measures delivery latency from commit to receipt over 60 deliveries (p99 under a second)', async () => {
    rx.respond = () => ({ status: 200 });
    const hook = await createWebhook(s, { url: rx.url });
    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const { id } = await createExecution(s, { workflowId: 'wf-latency' });
      const started = performance.now();
      ok(await s.gql(COMPLETE, { id }));
      const [got] = await rx.waitFor(1, (r) => r.body.data?.execution?.id === id, 2000);
      latencies.push((got?.at ?? Number.POSITIVE_INFINITY) - started);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `webhook latency on ${kind} (mutation sent → request at receiver): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length}`,
    );
    expect(p99).toBeLessThan(1000);
    const list = await eventually(
      () => deliveries(s, hook.id),
      (l) => l.length === 60 && l.every((d) => d.status === 'SUCCEEDED'),
    );
    // A healthy receiver gets each delivery in one attempt (no stale keep-alive socket costs a retry).
    expect(list.filter((d) => d.attemptCount > 1).map((d) => d.attempts.map((a) => a.error))).toEqual([]);
    await s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: hook.id });
  });
  it('counts attempts by outcome, their latency, the queue depth and the oldest pending age in /metrics', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(Number(/^vigil_webhook_attempts_total\{outcome="succeeded"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(60);
    expect(text).toMatch(/^vigil_webhook_attempts_total\{outcome="retry"\} \d+$/m);
    expect(text).toMatch(/^vigil_webhook_attempts_total\{outcome="gone"\} 1$/m);
    expect(text).toMatch(/^vigil_webhook_deliveries_total\{outcome="succeeded"\} \d+$/m);
    expect(text).toMatch(/^vigil_webhook_attempt_duration_seconds_count \d+$/m);
    expect(text).toMatch(/^vigil_webhook_queue_depth 0$/m);
    expect(text).toMatch(/^vigil_webhook_oldest_pending_age_seconds 0$/m);
    expect(text).toMatch(/^vigil_webhook_in_flight 0$/m);
  });
});
