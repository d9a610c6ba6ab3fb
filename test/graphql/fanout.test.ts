import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { subscribe, TRANSPORTS, take } from '../support/subscribe.js';

const EVENTS = `subscription($id: ID!, $after: Int) {
  executionEvents(executionId: $id, after: $after, timeout: 30) { sequence ... on ProgressEvent { percentage } }
}`;

async function counters(s: TestServer): Promise<{ executed: number; written: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { executed: read('vigil_sse_items_executed_total'), written: read('vigil_sse_frames_written_total') };
}

describe('fan-out to identical subscribers', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('postgres');
  });
  afterAll(() => s.close());

  it('executes and serializes each event once for a group, and writes it to every member', async () => {
    const { id } = await createExecution(s);
    const subs = Array.from({ length: 40 }, (_, i) =>
      // both lean transports, and cursors that differ: still one group
      subscribe<{ executionEvents: { sequence: number; percentage: number } }>(
        s.url,
        i % 2 ? 'yoga-sse' : 'graphql-sse-distinct',
        EVENTS,
        {
          id,
          after: i % 3 === 0 ? 0 : null,
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = await counters(s);
    ok(await record(s, id, [{ progress: { percentage: 42 } }]));
    const first = await Promise.all(subs.map((sub) => take(sub, 1)));
    for (const [r] of first) expect(r?.data?.executionEvents).toEqual({ sequence: 1, percentage: 42 });
    const after = await counters(s);
    expect(after.executed - before.executed).toBe(1);
    expect(after.written - before.written).toBe(40);
    await Promise.all(subs.map((sub) => sub.close()));
  });

  it('keeps groups apart when the selection differs', async () => {
    const { id } = await createExecution(s);
    const a = subscribe(s.url, 'graphql-sse-distinct', EVENTS, { id });
    const b = subscribe(
      s.url,
      'graphql-sse-distinct',
      'subscription($id: ID!) { executionEvents(executionId: $id) { sequence type } }',
      { id },
    );
    await new Promise((r) => setTimeout(r, 300));
    const before = await counters(s);
    ok(await record(s, id, [{ progress: { percentage: 1 } }]));
    const [[ra], [rb]] = await Promise.all([take(a, 1), take(b, 1)]);
    expect(ra?.data).toEqual({ executionEvents: { sequence: 1, percentage: 1 } });
    expect(rb?.data).toEqual({ executionEvents: { sequence: 1, type: 'PROGRESS' } });
    expect((await counters(s)).executed - before.executed).toBe(2);
    await a.close();
    await b.close();
  });

  it.each(TRANSPORTS)('still answers an error before the stream as before (%s)', async (transport) => {
    const sub = subscribe(s.url, transport, EVENTS, { id: '01900000-0000-7000-8000-000000000000' });
    const [r] = await take(sub, 1);
    expect(r?.errors?.[0]?.extensions?.code).toBe('EXECUTION_NOT_FOUND');
    await sub.close();
  });
});
