import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { readSse, type SseMessage } from '../support/sse.js';
import { TestKeys } from '../support/test-keys.js';

/**
 * The lean SSE path (VIGIL_FAST_GRAPHQL on) must write what the libraries write (off): yoga's SSE at POST /graphql
 * and graphql-sse's distinct mode at POST /graphql/stream, compared frame by frame (same events, same data bytes,
 * once the execution id and correlation ids are normalized), with auth on.
 */
const PROTOCOLS = [
  ['yoga', '/graphql'],
  ['graphql-sse', '/graphql/stream'],
] as const;

const EVENTS = `subscription($id: ID!, $after: Int, $timeout: Float) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout) {
    sequence type executionId ... on StatusChangedEvent { from to } ... on ProgressEvent { step percentage }
  }
}`;
/** Not the lean path's shape (a directive on the root field): subscribed through yoga's envelop, written by the writer. */
const EVENTS_ENVELOPED = EVENTS.replace('timeout: $timeout)', 'timeout: $timeout) @include(if: true)');
const LOG_EVENTS = `subscription($id: ID!, $after: Int, $timeout: Float, $types: [ExecutionEventType!]) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout, types: $types) {
    sequence type executionId ... on LogEvent { stream level text } ... on StatusChangedEvent { from to }
  }
}`;
const UPDATED = `subscription($filter: ExecutionFilter) {
  executionUpdated(filter: $filter) { id status workflowId lastSequence stats { totalMessages } progress { percentage } }
}`;
const WRITER = TestKeys.headers('writer');

interface Answer {
  status: number;
  type: string | null;
  frames: SseMessage[];
}

function open(s: TestServer, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal) {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

const normalize = (text: string, id?: string) =>
  (id ? text.replaceAll(id, '<id>') : text).replace(/"correlationId":"[^"]+"/g, '"correlationId":"…"');

describe.each(DB_KINDS)('lean SSE against the libraries on %s', (kind) => {
  let lean: TestServer;
  let stock: TestServer;
  beforeAll(async () => {
    const auth = new TestKeys();
    [lean, stock] = await Promise.all([
      startTestServer(kind, { auth }),
      startTestServer(kind, { auth, env: { VIGIL_FAST_GRAPHQL: 'off' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([lean.close(), stock.close()]);
  });

  /** A replay, live events and the terminal event, on one server: every frame, in order. */
  async function replayLiveTerminal(s: TestServer, path: string, query: string): Promise<Answer> {
    const { id } = await createExecution(s, {}, WRITER);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 10 } }], WRITER));
    const res = await open(s, path, { query, variables: { id, timeout: 30 } }, WRITER);
    const frames: SseMessage[] = [];
    const reader = readSse(res);
    while (frames.length < 2) {
      const next = await reader.next();
      if (next.done) break;
      frames.push(next.value);
    }
    ok(await record(s, id, [{ progress: { step: 'load', percentage: 50 } }], WRITER));
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }], WRITER));
    for await (const m of reader) frames.push(m);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      frames: frames.map((m) => ({ ...m, data: normalize(m.data, id) })),
    };
  }

  const SUBSCRIPTIONS = PROTOCOLS.flatMap(([protocol, path]) => [
    [protocol, 'lean', path, EVENTS],
    [protocol, 'enveloped', path, EVENTS_ENVELOPED],
  ]);
  it.each(SUBSCRIPTIONS)(
    'writes the same frames for a replay, live events and the terminal event (%s, %s)',
    async (_, __, path, query) => {
      const [a, b] = await Promise.all([replayLiveTerminal(lean, path, query), replayLiveTerminal(stock, path, query)]);
      expect(a.frames.map((f) => f.event)).toEqual(['next', 'next', 'next', 'next', 'complete']);
      expect(a).toEqual(b);
    },
  );

  /** Only LOG events of a mixed stream (`types: [LOG]`), replayed then live; it completes at the terminal event. */
  async function logsOnly(s: TestServer, path: string): Promise<Answer> {
    const { id } = await createExecution(s, {}, WRITER);
    const log = (text: string, extra = {}) => ({ log: { text, ...extra } });
    ok(
      await record(
        s,
        id,
        [{ statusChanged: { to: 'RUNNING' } }, log('\u001b[31mred\u001b[0m\n', { level: 'WARN' })],
        WRITER,
      ),
    );
    const variables = { id, timeout: 30, types: ['LOG'] };
    const res = await open(s, path, { query: LOG_EVENTS, variables }, WRITER);
    const reader = readSse(res);
    const frames: SseMessage[] = [];
    const first = await reader.next();
    if (!first.done) frames.push(first.value);
    ok(await record(s, id, [{ progress: { percentage: 5 } }, log('two', { stream: 'stderr' })], WRITER));
    ok(await record(s, id, [log('three'), { statusChanged: { to: 'COMPLETED' } }], WRITER));
    for await (const m of reader) frames.push(m);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      frames: frames.map((m) => ({ ...m, data: normalize(m.data, id) })),
    };
  }

  it.each(PROTOCOLS)('writes the same frames for executionEvents(types: [LOG]) (%s)', async (_, path) => {
    const [a, b] = await Promise.all([logsOnly(lean, path), logsOnly(stock, path)]);
    expect(a.frames.map((f) => f.event)).toEqual(['next', 'next', 'next', 'complete']);
    expect(a.frames.map((f) => JSON.parse(f.data || '{}').data?.executionEvents?.sequence ?? null)).toEqual([
      2,
      4,
      5,
      null,
    ]);
    expect(a).toEqual(b);
  });

  async function updates(s: TestServer, path: string): Promise<Answer> {
    const workflowId = `wf-diff-${path}`; // one per server: the two servers have their own databases
    const controller = new AbortController();
    const res = await open(
      s,
      path,
      { query: UPDATED, variables: { filter: { workflowId } } },
      WRITER,
      controller.signal,
    );
    const reader = readSse(res);
    await new Promise((r) => setTimeout(r, 300)); // subscribed before the changes
    const { id } = await createExecution(s, { workflowId }, WRITER);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }], WRITER));
    ok(await record(s, id, [{ message: { messageId: 'm', status: 'INITIATED' } }], WRITER));
    ok(await record(s, id, [{ progress: { percentage: 30 } }], WRITER));
    const frames: SseMessage[] = [];
    while (frames.length < 4) {
      const next = await reader.next();
      if (next.done) break;
      frames.push({ ...next.value, data: normalize(next.value.data, id) });
    }
    controller.abort();
    await reader.return(undefined);
    return { status: res.status, type: res.headers.get('content-type'), frames };
  }

  it.each(PROTOCOLS)('writes the same frames for executionUpdated (%s)', async (_, path) => {
    const [a, b] = await Promise.all([updates(lean, path), updates(stock, path)]);
    expect(a.frames).toHaveLength(4);
    expect(a).toEqual(b);
  });

  /** A request answered before any stream (or with a stream of one error): status, media type and body. */
  async function answer(s: TestServer, path: string, body: unknown, headers: Record<string, string>) {
    const res = await open(s, path, body, headers);
    return { status: res.status, type: res.headers.get('content-type'), body: normalize(await res.text()) };
  }

  const ERRORS: [string, unknown, Record<string, string>][] = [
    ['bad variables', { query: EVENTS, variables: { id: 'x', after: 'two' } }, WRITER],
    ['an unknown field', { query: 'subscription { nope }' }, WRITER],
    ['a missing key', { query: EVENTS, variables: { id: '01900000-0000-7000-8000-000000000000' } }, {}],
    ['a wrong key', { query: UPDATED }, { authorization: 'Bearer nope' }],
    ['an unknown execution', { query: EVENTS, variables: { id: '01900000-0000-7000-8000-000000000000' } }, WRITER],
  ];
  for (const [protocol, path] of PROTOCOLS) {
    it.each(ERRORS)(`answers %s as the library does (${protocol})`, async (_, body, headers) => {
      const [a, b] = await Promise.all([answer(lean, path, body, headers), answer(stock, path, body, headers)]);
      expect(a.body).toContain('"code":');
      expect(a).toEqual(b);
    });
  }
});
