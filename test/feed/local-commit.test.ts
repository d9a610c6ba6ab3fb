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
