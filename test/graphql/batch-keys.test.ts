import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { expectError, rest } from '../support/rest.js';

const RECORD = `mutation($id: ID!, $events: [ExecutionEventInput!]!, $key: String) {
  recordExecutionEvents(executionId: $id, events: $events, idempotencyKey: $key) {
    execution { status lastSequence } events { sequence type }
  }
}`;
const COUNTS = `query($id: ID!) { execution(id: $id) { lastSequence status
  events(after: 0) { sequence } logs { sequence text } stats { totalMessages } } }`;

type Recorded = {
  recordExecutionEvents: { execution: { status: string; lastSequence: number }; events: { sequence: number }[] };
};
type Counts = {
  execution: { lastSequence: number; events: unknown[]; logs: { text: string }[]; stats: { totalMessages: number } };
};

const batch = [
  { statusChanged: { to: 'RUNNING' } },
  { message: { messageId: 'm1', status: 'INITIATED' } },
  { log: { text: 'one line' } },
];

describe.each(DB_KINDS)('idempotent event batches on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());
  const counts = async (id: string) => ok(await s.gql<Counts>(COUNTS, { id })).execution;

  it('GraphQL: a replayed batch answers its first outcome and writes nothing', async () => {
    const { id } = await createExecution(s);
    const first = ok(await s.gql<Recorded>(RECORD, { id, events: batch, key: 'b-1' })).recordExecutionEvents;
    expect(first.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const again = ok(await s.gql<Recorded>(RECORD, { id, events: batch, key: 'b-1' })).recordExecutionEvents;
    expect(again.events).toEqual(first.events);
    expect(again.execution).toEqual({ status: 'RUNNING', lastSequence: 3 });
    const after = await counts(id);
    expect(after.lastSequence).toBe(3);
    expect(after.events).toHaveLength(3);
    expect(after.logs.map((l) => l.text)).toEqual(['one line']);
    expect(after.stats.totalMessages).toBe(1);
    // Another key is another batch; without a key nothing is deduplicated.
    const other = ok(await s.gql<Recorded>(RECORD, { id, events: [{ log: { text: 'x' } }], key: 'b-2' }));
    expect(other.recordExecutionEvents.events.map((e) => e.sequence)).toEqual([4]);
    ok(await s.gql<Recorded>(RECORD, { id, events: [{ log: { text: 'x' } }] }));
    ok(await s.gql<Recorded>(RECORD, { id, events: [{ log: { text: 'x' } }] }));
    expect((await counts(id)).lastSequence).toBe(6);
  });

  it('GraphQL: a different batch under a used key is IDEMPOTENCY_CONFLICT and writes nothing', async () => {
    const { id } = await createExecution(s);
    ok(await s.gql<Recorded>(RECORD, { id, events: batch, key: 'k' }));
    const res = await s.gql<Recorded>(RECORD, { id, events: [{ log: { text: 'other' } }], key: 'k' });
    expect(codeOf(res)).toBe('IDEMPOTENCY_CONFLICT');
    expect((await counts(id)).lastSequence).toBe(3);
    // Keys are scoped per execution: the same key on another execution is its own batch.
    const { id: other } = await createExecution(s);
    const res2 = ok(await s.gql<Recorded>(RECORD, { id: other, events: batch, key: 'k' }));
    expect(res2.recordExecutionEvents.events).toHaveLength(3);
  });

  it('GraphQL: a refused batch stores no key, so it is evaluated again', async () => {
    const { id } = await createExecution(s);
    const bad = [{ progress: { percentage: 20 } }, { progress: { percentage: 101 } }];
    expect(codeOf(await s.gql(RECORD, { id, events: bad, key: 'r' }))).toBe('VALIDATION_FAILED');
    const good = ok(await s.gql<Recorded>(RECORD, { id, events: [{ progress: { percentage: 20 } }], key: 'r' }));
    expect(good.recordExecutionEvents.events.map((e) => e.sequence)).toEqual([1]);
    expect(codeOf(await s.gql(RECORD, { id, events: [], key: '' }))).toBe('VALIDATION_FAILED');
  });

  it('GraphQL: concurrent sends of one keyed batch append it once', async () => {
    const { id } = await createExecution(s);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => s.gql<Recorded>(RECORD, { id, events: batch, key: 'same' })),
    );
    for (const r of results) expect(ok(r).recordExecutionEvents.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect((await counts(id)).lastSequence).toBe(3);
  });

  it('REST: the ingest endpoint takes idempotencyKey with the same rules', async () => {
    const { id } = await createExecution(s);
    const path = `/api/v1/executions/${id}/events`;
    const first = await rest<{ events: { sequence: number }[] }>(s, 'POST', path, {
      json: { events: batch, idempotencyKey: 'rest-1' },
    });
    expect(first.status).toBe(200);
    expect(first.body.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const again = await rest<{ events: unknown[]; execution: { lastSequence: number } }>(s, 'POST', path, {
      json: { events: batch, idempotencyKey: 'rest-1' },
    });
    expect(again.status).toBe(200);
    expect(again.body.events).toEqual(first.body.events);
    expect(again.body.execution.lastSequence).toBe(3);
    const conflict = await rest(s, 'POST', path, { json: { events: [], idempotencyKey: 'rest-1' } });
    expectError(conflict, 409, 'IDEMPOTENCY_CONFLICT');
    const bad = await rest(s, 'POST', path, { json: { events: [], idempotencyKey: 5 } });
    expectError(bad, 422, 'VALIDATION_FAILED');
    // A key GraphQL stored answers REST's replay too: one domain, one store.
    ok(await s.gql<Recorded>(RECORD, { id, events: [{ log: { text: 'g' } }], key: 'both' }));
    const viaRest = await rest<{ events: { sequence: number }[] }>(s, 'POST', path, {
      json: { events: [{ log: { text: 'g' } }], idempotencyKey: 'both' },
    });
    expect(viaRest.body.events.map((e) => e.sequence)).toEqual([4]);
    expect((await counts(id)).lastSequence).toBe(4);
  });
});
