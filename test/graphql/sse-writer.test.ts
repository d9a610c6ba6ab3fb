import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionEvents, executions } from '../../src/db/schema.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, recordViaRest } from '../support/rest.js';
import { messagesOf, rawExchange, readSse, type SseMessage } from '../support/sse.js';

/**
 * The one SSE writer, on every stream Vigil writes: yoga's framing at /graphql, graphql-sse distinct mode at
 * /graphql/stream, seed 002. Heartbeats from the configuration, backpressure, per-member error frames, shutdown.
 */
const HEARTBEAT_MS = 100;
const MAX_UNSENT = 64 * 1024;
const BIG = 'x'.repeat(900_000);
const GRAPHQL = [
  ['yoga', '/graphql'],
  ['graphql-sse', '/graphql/stream'],
] as const;
const EVENTS = `subscription($id: ID!, $after: Int, $timeout: Float) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout) { sequence type ... on StepEvent { stepId outputs } }
}`;

type Counters = { streams: number; executed: number };
async function counters(s: TestServer): Promise<Counters> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { streams: read('vigil_open_streams'), executed: read('vigil_sse_items_executed_total') };
}

function subscribeSse(s: TestServer, path: string, variables: Record<string, unknown>, headers = {}, query = EVENTS) {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
  });
}

async function take(messages: AsyncGenerator<SseMessage>, n: number): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  while (out.length < n) {
    const next = await messages.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** An execution with `count` stored events of about 900 kB each: more than socket buffers and the bound hold. */
async function bigExecution(s: TestServer, count: number): Promise<string> {
  const { id } = await createExecution(s);
  for (let i = 0; i < count; i++) {
    ok(await record(s, id, [{ step: { stepId: `s${i}`, status: 'RUNNING', outputs: { blob: BIG } } }]));
  }
  return id;
}

describe.each(DB_KINDS)('the SSE writer on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, {
      env: {
        VIGIL_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        VIGIL_SSE_MAX_UNSENT_BYTES: String(MAX_UNSENT),
        VIGIL_JSON_FIELD_LIMIT: '1000000',
        VIGIL_BODY_LIMIT: '4000000',
      },
    });
  });
  afterAll(() => s.close());
  let big: Promise<string> | undefined;
  /** One such execution for the tests below (they only read it). */
  const bigOnce = () => {
    big ??= bigExecution(s, 14);
    return big;
  };

  const HEARTBEAT_CASES = GRAPHQL.flatMap(([protocol, path]) => [
    [protocol, 'lean', path, EVENTS],
    [protocol, 'enveloped', path, EVENTS.replace('timeout: $timeout)', 'timeout: $timeout) @include(if: true)')],
  ]);
  it.each(HEARTBEAT_CASES)(
    'sends a comment heartbeat every VIGIL_SSE_HEARTBEAT_MS on GraphQL streams (%s, %s)',
    async (_, __, path, query) => {
      const { id } = await createExecution(s);
      const text = await (await subscribeSse(s, path, { id, timeout: 1 }, {}, query)).text();
      const comments = text.split('\n').filter((l) => l.startsWith(':'));
      expect(comments.length).toBeGreaterThanOrEqual(5); // 1 s at 100 ms
      expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
    },
  );

  it.each(GRAPHQL)(
    'ends a consumer that stops reading with a coded frame and releases its slot (%s)',
    async (_, path) => {
      const id = await bigOnce();
      const before = await counters(s);
      const body = JSON.stringify({ query: EVENTS, variables: { id, timeout: 60 } });
      const exchange = await rawExchange(
        s.url,
        `POST ${path} HTTP/1.1\r\nHost: ${new URL(s.url).host}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n` +
          `X-Correlation-Id: slow-reader\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      try {
        // Its slot is released while it still reads nothing: the stream ended on the server's side.
        await expect.poll(async () => (await counters(s)).streams, { timeout: 15_000 }).toBe(before.streams);
        const messages = messagesOf(await exchange.resume());
        const last = messages.at(-2);
        expect(messages.at(-1)?.event).toBe('complete');
        expect(last?.event).toBe('next');
        const { errors } = JSON.parse(last?.data ?? '{}') as { errors: { extensions: Record<string, unknown> }[] };
        expect(errors[0]?.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', correlationId: 'slow-reader' });
        expect(messages.length).toBeGreaterThan(2);
        expect(messages.length).toBeLessThan(14 + 2); // not every event: it was cut off
      } finally {
        exchange.close();
      }
    },
    60_000,
  );

  it('ends a seed 002 consumer that stops reading with event: error and releases its slot', async () => {
    const id = await bigOnce();
    const before = await counters(s);
    const exchange = await rawExchange(
      s.url,
      `GET /api/v1/executions/${id}/events?timeout=60 HTTP/1.1\r\nHost: ${new URL(s.url).host}\r\nX-Correlation-Id: slow-rest\r\n\r\n`,
    );
    try {
      await expect.poll(async () => (await counters(s)).streams, { timeout: 15_000 }).toBe(before.streams);
      const messages = messagesOf(await exchange.resume());
      const last = messages.at(-1);
      expect(last?.event).toBe('error');
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
        error_code: 'SERVICE_UNAVAILABLE',
        correlation_id: 'slow-rest',
      });
      expect(messages.length).toBeGreaterThan(1);
      expect(messages.length).toBeLessThan(14 + 1); // not every event: it was cut off
      expect(messages.slice(0, -1).map((m) => m.event)).toEqual(messages.slice(0, -1).map(() => 'step'));
    } finally {
      exchange.close();
    }
  }, 60_000);

  it('gives each member of a group its own correlation id in an error frame', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ progress: { percentage: 5 } }]));
    // A stored step event without its (non-null) step id: executing it is an error, in every member's stream.
    await s.database.db.insert(executionEvents).values({
      executionId: id,
      sequence: 2,
      type: 'STEP',
      payload: { status: 'RUNNING' },
      occurredAt: new Date(),
      recordedAt: new Date(),
    });
    await s.database.db.update(executions).set({ lastSequence: 2 }).where(eq(executions.id, id));
    const before = await counters(s);
    const a = readSse(await subscribeSse(s, '/graphql', { id, timeout: 30 }, { 'x-correlation-id': 'member-a' }));
    const framesA = await take(a, 2);
    const b = readSse(
      await subscribeSse(s, '/graphql/stream', { id, after: 0, timeout: 30 }, { 'x-correlation-id': 'member-b' }),
    );
    const framesB = await take(b, 2);
    // One group: each item executed once for both.
    expect((await counters(s)).executed - before.executed).toBe(2);
    const errorOf = (frames: SseMessage[]) =>
      (JSON.parse(frames[1]?.data ?? '{}') as { errors?: { extensions: Record<string, unknown> }[] }).errors?.[0]
        ?.extensions;
    expect(errorOf(framesA)).toMatchObject({ correlationId: 'member-a' });
    expect(errorOf(framesB)).toMatchObject({ correlationId: 'member-b' });
    expect(framesA[0]?.data).toBe(framesB[0]?.data);
    await a.return(undefined);
    await b.return(undefined);
  });
});

describe.each(DB_KINDS)('shutdown on %s', (kind) => {
  it('ends every open stream, GraphQL ones with their complete frame', async () => {
    const s = await startTestServer(kind);
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    const streams = await Promise.all([
      subscribeSse(s, '/graphql', { id, timeout: 60 }),
      subscribeSse(s, '/graphql/stream', { id, timeout: 60 }),
      fetch(`${s.url}/api/v1/executions/${id}/events?timeout=60`),
    ]);
    const readers = streams.map((res) => readSse(res, 10_000));
    const first = await Promise.all(readers.map((r) => take(r, 1))); // each has its replayed event
    const started = Date.now();
    await s.close();
    const rest = await Promise.all(readers.map((r) => take(r, 10)));
    expect(Date.now() - started).toBeLessThan(5000);
    const events = first.map((f, i) => [...f, ...(rest[i] ?? [])].map((m) => m.event));
    expect(events).toEqual([['next', 'complete'], ['next', 'complete'], ['status']]);
  });
});
