import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPrincipal } from '../../src/domain/access.js';
import { recordEvents } from '../../src/domain/record.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { subscribe } from '../support/subscribe.js';

const FIELDS =
  'sequence type occurredAt ... on ProgressEvent { percentage step } ... on MessageEvent { messageId status } ... on LogEvent { text level stream }';
const EVENTS = `subscription($id: ID!) { executionEvents(executionId: $id, timeout: 30) { ${FIELDS} } }`;
const EVENTS_QUERY = `query($id: ID!) { execution(id: $id) { events { ${FIELDS} } } }`;
const WAIT =
  'query($id: ID!) { waitForExecution(id: $id, timeout: 20) { completed execution { status lastSequence } } }';
const COMPLETE = 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }';

type Event = { sequence: number; type: string; [field: string]: unknown };

/**
 * POST /graphql on a connection of its own, as a GraphQL-over-HTTP client sends it; resolves with the answer's text
 * once the whole of it has arrived, and pushes `label` to `arrivals` at that moment.
 */
function rawGraphql(url: string, query: string, variables: unknown, label: string, arrivals: string[]) {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ query, variables });
  const head = `POST /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: application/graphql-response+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head + body));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const split = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, Math.max(split, 0)))?.[1] ?? -1);
      if (split < 0 || length < 0 || Buffer.byteLength(text.slice(split + 4)) < length) return;
      arrivals.push(label);
      socket.destroy();
      resolve(text.slice(split + 4));
    });
    socket.on('error', reject);
  });
}

/** Until the feed's read count stops moving (the hubs' first reads after attaching are done). */
async function settled(s: TestServer): Promise<number> {
  let last = -1;
  for (;;) {
    const reads = s.feed.stats.reads;
    if (reads === last) return reads;
    last = reads;
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe.each(DB_KINDS)('a commit of this process reaches its listeners on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('streams what the writer committed, in order, without reading it back', async () => {
    const { id } = await createExecution(s);
    const sub = subscribe<{ executionEvents: Event }>(s.url, 'graphql-sse-distinct', EVENTS, { id });
    const got: Event[] = [];
    const reading = (async () => {
      for await (const r of sub.results) {
        if (r.data?.executionEvents) got.push(r.data.executionEvents);
      }
    })();
    ok(await record(s, id, [{ progress: { percentage: 10, step: 'load' } }]));
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    const before = await settled(s);
    ok(await record(s, id, [{ message: { messageId: 'm-1', status: 'INITIATED' } }, { progress: { percentage: 20 } }]));
    ok(await record(s, id, [{ log: { text: 'hello', level: 'INFO' } }]));
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(4);
    expect(s.feed.stats.reads).toBe(before);
    expect(got.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    // The same events a read of the table answers.
    const stored = ok(await s.gql<{ execution: { events: Event[] } }>(EVENTS_QUERY, { id })).execution.events;
    expect(got.filter((e) => e.type !== 'LOG')).toEqual(stored.filter((e) => e.type !== 'LOG'));
    expect(got[3]).toMatchObject({ type: 'LOG', text: 'hello', level: 'INFO', stream: 'stdout' });
    await sub.close();
    await reading;
  });

  it('answers a held wait from the committed row, without reading it back', async () => {
    const { id } = await createExecution(s);
    const wait = s.gql<{
      waitForExecution: { completed: boolean; execution: { status: string; lastSequence: number } };
    }>(WAIT, { id });
    await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(1);
    const before = await settled(s);
    ok(await s.gql(COMPLETE, { id }));
    expect(ok(await wait).waitForExecution).toEqual({
      completed: true,
      execution: { status: 'COMPLETED', lastSequence: 1 },
    });
    expect(s.feed.stats.reads).toBe(before);
  });

  it("answers a held wait before the status change's own answer, as a bare handler would", async () => {
    const arrivals: string[] = [];
    for (let round = 0; round < 3; round++) {
      const { id } = await createExecution(s);
      const wait = rawGraphql(s.url, WAIT, { id }, 'wait', arrivals);
      await expect.poll(() => s.feed.openListeners.executions, { timeout: 5000 }).toBe(1);
      await settled(s);
      const change = rawGraphql(s.url, COMPLETE, { id }, 'change', arrivals);
      const [waited, changed] = await Promise.all([wait, change]);
      expect(JSON.parse(waited).data.waitForExecution).toEqual({
        completed: true,
        execution: { status: 'COMPLETED', lastSequence: 1 },
      });
      expect(JSON.parse(changed).data.updateExecutionStatus).toEqual({ success: true });
    }
    expect(arrivals).toEqual(['wait', 'change', 'wait', 'change', 'wait', 'change']);
  });

  it('reads what it has not seen when a commit does not follow what it dispatched', async () => {
    const { id } = await createExecution(s);
    const principal = openPrincipal('test');
    const sub = subscribe<{ executionEvents: Event }>(s.url, 'graphql-sse-distinct', EVENTS, { id });
    const got: number[] = [];
    const reading = (async () => {
      for await (const r of sub.results) if (r.data?.executionEvents) got.push(r.data.executionEvents.sequence);
    })();
    ok(await record(s, id, [{ progress: { percentage: 1 } }]));
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    await settled(s);
    // A commit the feed is never told of (as if its notice were lost), then one it is told of: the second's events
    // start past what was dispatched, so the hub reads both from the table, in order.
    await recordEvents({ ...s.domain, sink: { changed: () => {} } }, principal, id, [{ progress: { percentage: 2 } }]);
    ok(await record(s, id, [{ progress: { percentage: 3 } }]));
    await expect.poll(() => got, { timeout: 5000 }).toEqual([1, 2, 3]);
    await sub.close();
    await reading;
  });
});
