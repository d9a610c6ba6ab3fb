import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';

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
