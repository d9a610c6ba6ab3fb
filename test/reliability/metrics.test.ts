import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeLabeler } from '../../src/http/routes.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

describe('/metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('postgres');
  });
  afterAll(() => s.close());

  it('exposes requests, open waits and streams, events, notifications, reconnects and sweeper moves in Prometheus text', async () => {
    const { id } = await createExecution(s);
    ok(
      await record(s, id, [
        { progress: { percentage: 1 } },
        { progress: { percentage: 2 } },
        { progress: { percentage: 3 } },
      ]),
    );
    const wait = s.gql('query($id: ID!) { waitForExecution(id: $id, timeout: 2) { completed } }', { id });
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/vigil_http_requests_total\{route="\/graphql",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/^vigil_open_waiters 1$/m);
    expect(text).toMatch(/^vigil_open_streams 0$/m);
    expect(text).toMatch(/^vigil_events_ingested_total 3$/m);
    expect(text).toMatch(/^vigil_notifications_received_total \d+$/m);
    expect(text).toMatch(/^vigil_listener_reconnects_total 0$/m);
    expect(text).toMatch(/^vigil_change_feed_listening 1$/m);
    expect(text).toContain('vigil_sweeper_transitions_total');
    expect(text).toContain('vigil_process_resident_memory_bytes');
    await wait;
  });
});

describe.each(DB_KINDS)('/metrics under unauthenticated garbage (%s)', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on' } });
  });
  afterAll(() => s.close());

  const routeLabels = async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const routes = new Set([...text.matchAll(/^vigil_http_requests_total\{route="([^"]*)"/gm)].map((m) => m[1]));
    return { routes, bytes: text.length };
  };

  it('labels requests by route template, so thousands of distinct paths leave the label set bounded', async () => {
    const shapes = [
      (n: string) => `/api/v1/executions/${n}`,
      (n: string) => `/api/v1/executions/${n}/wait`,
      (n: string) => `/api/v1/executions/${n}/events`,
      (n: string) => `/workflows/executions/${n}/wait`,
      (n: string) => `/api/v1/webhooks/${n}/deliveries`,
      (n: string) => `/api/v1/${n}`,
      (n: string) => `/workflows/${n}`,
      (n: string) => `/graphql/${n}`,
      (n: string) => `/assets/${n}.js`,
      (n: string) => `/${n}`,
    ];
    const total = 2000;
    let next = 0;
    const statuses = new Set<number>();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          const shape = shapes[i % shapes.length] as (n: string) => string;
          const res = await fetch(`${s.url}${shape(`x${i}-${Math.random().toString(36).slice(2)}`)}`);
          statuses.add(res.status);
          await res.arrayBuffer();
        }
      }),
    );
    expect([...statuses].every((status) => status === 401 || status === 404)).toBe(true);
    const { routes, bytes } = await routeLabels();
    expect(routes.size).toBeLessThanOrEqual(12);
    expect(routes).toContain('/api/v1/executions/{execution_id}');
    expect(routes).toContain('/api/v1/executions/{execution_id}/wait');
    expect(routes).toContain('/workflows/executions/{id}/wait');
    expect(routes).toContain('/api/v1/webhooks/{webhook_id}/deliveries');
    expect(routes).toContain('other');
    expect(bytes).toBeLessThan(100_000);
  }, 120_000);
});

describe('route labels', () => {
  const routeOf = routeLabeler(() => ['/api/*', '/api/v1/executions/:execution_id', '/api/v1/executions/wait']);

  it.each([
    ['/api/v1/executions/wait', '/api/v1/executions/wait'],
    ['/api/v1/executions/0190aa', '/api/v1/executions/{execution_id}'],
    ['/api/v1/executions/0190aa/unknown', 'other'],
    ['/graphql', '/graphql'],
    ['/graphql/anything', 'other'],
    ['/assets/index-3f2a.js', '/assets/{file}'],
    [`/api/v1/executions/${'x'.repeat(600)}`, 'other'],
    ['/favicon.ico', 'other'],
  ])('labels %s as %s (literal segments before parameters, middleware skipped)', (path, label) => {
    expect(routeOf(path)).toBe(label);
  });
});
