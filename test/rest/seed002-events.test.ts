import { EventSource, type FetchLike } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import {
  createViaRest,
  expectError,
  ISO_UTC,
  locsOf,
  recordViaRest,
  rest,
  sleep,
  UNKNOWN_ID,
} from '../support/rest.js';
import { collectSse, readSse, type SseMessage } from '../support/sse.js';

const HEARTBEAT_MS = 100;
const EVENT_NAMES = ['initiated', 'processing', 'completed', 'failed', 'status', 'progress', 'step'];
const data = (m: SseMessage) => JSON.parse(m.data) as Record<string, unknown>;
const ids = (ms: SseMessage[]) => ms.map((m) => Number(m.id));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(DB_KINDS)('seed 002 GET /api/v1/executions/{execution_id}/events on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS) } });
  });
  afterAll(() => s.close());
  const url = (id: string, query = '') => `${s.url}/api/v1/executions/${id}/events${query}`;
  const stream = (id: string, query = '', headers: Record<string, string> = {}) =>
    fetch(url(id, query), { headers: { accept: 'text/event-stream', ...headers } });

  it('names message events by status, status changes "status", progress and steps, with id = sequence', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [
      { statusChanged: { to: 'RUNNING' } },
      { message: { messageId: 'm1', adapter: 'sftp', status: 'INITIATED' } },
      { message: { messageId: 'm1', status: 'PROCESSING' } },
      { message: { messageId: 'm1', status: 'COMPLETED' } },
      { message: { messageId: 'm2', status: 'FAILED', error: { code: 'E', message: 'bad file' } } },
      { progress: { step: 'load', percentage: 50 } },
      { step: { stepId: 'load', type: 'copy', status: 'COMPLETED', rowCounts: { rows: 3 } } },
      { statusChanged: { to: 'COMPLETED' } },
    ]);
    const res = await stream(id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const all = await collectSse(res);
    expect(all.map((m) => m.event)).toEqual([
      'status',
      'initiated',
      'processing',
      'completed',
      'failed',
      'progress',
      'step',
      'status',
    ]);
    expect(ids(all)).toEqual(range(1, 8));
    for (const m of all) {
      expect(data(m)).toMatchObject({ execution_id: id, sequence: Number(m.id) });
      expect(data(m).occurred_at).toMatch(ISO_UTC);
    }
    const [running, initiated, , , failed, progress, step, done] = all.map(data);
    expect(running).toMatchObject({ status: 'running', previous_status: 'running', error: null });
    expect(initiated).toMatchObject({ message_id: 'm1', adapter: 'sftp', status: 'initiated', error: null });
    expect(failed).toMatchObject({ message_id: 'm2', status: 'failed', error: { code: 'E', message: 'bad file' } });
    expect(progress).toMatchObject({ step: 'load', percentage: 50 });
    expect(step).toMatchObject({ step_id: 'load', type: 'copy', status: 'completed', row_counts: { rows: 3 } });
    expect(done).toMatchObject({ status: 'completed', previous_status: 'running' });
  });

  it('replays stored events, streams live ones, and ends after the terminal event', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);
    const res = await stream(id, '?timeout=30');
    const got: SseMessage[] = [];
    const reading = (async () => {
      for await (const m of readSse(res)) got.push(m);
    })();
    await vi.waitFor(() => expect(got).toHaveLength(1));
    await recordViaRest(s, id, [{ progress: { percentage: 10 } }]);
    await vi.waitFor(() => expect(got).toHaveLength(2));
    await rest(s, 'PATCH', `/api/v1/executions/${id}`, { json: { status: 'cancelled' } });
    await reading;
    expect(ids(got)).toEqual([1, 2, 3]);
    expect(data(got[2] as SseMessage)).toMatchObject({ status: 'cancelled', previous_status: 'running' });
  });

  it('resumes after Last-Event-ID, or the last_event_id query parameter, with no gap and no duplicate', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(
      s,
      id,
      [1, 2, 3, 4].map((p) => ({ progress: { percentage: p } })),
    );
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    expect(ids(await collectSse(await stream(id, '', { 'last-event-id': '2' })))).toEqual([3, 4, 5]);
    expect(ids(await collectSse(await stream(id, '?last_event_id=3')))).toEqual([4, 5]);
    expect(ids(await collectSse(await stream(id, '?last_event_id=0', { 'last-event-id': '4' })))).toEqual([5]);
  });

  it('answers 204 to a resume after the terminal event, so EventSource stops reconnecting', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const res = await stream(id, '', { 'last-event-id': '1' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('sends a comment heartbeat every VIGIL_SSE_HEARTBEAT_MS (15 s at most by default)', async () => {
    expect(loadConfig({}).VIGIL_SSE_HEARTBEAT_MS).toBeLessThanOrEqual(15_000);
    const { id } = await createViaRest(s);
    const res = await stream(id, '?timeout=1');
    const text = await res.text();
    const comments = text.split('\n').filter((l) => l.startsWith(':'));
    expect(comments.length).toBeGreaterThanOrEqual(5); // 1 s at 100 ms
  });

  it('ends at the timeout when the execution stays open', async () => {
    const { id } = await createViaRest(s);
    const started = Date.now();
    const all = await collectSse(await stream(id, '?timeout=1'));
    expect(all).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers 404 as JSON before any stream, for an unknown id and for an id that is not a UUID', async () => {
    for (const id of [UNKNOWN_ID, 'exec_abc123']) {
      const res = await stream(id);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expectError({ status: res.status, headers: res.headers, body: await res.json() }, 404, 'EXECUTION_NOT_FOUND');
    }
  });

  it.each([
    ['?timeout=0', {}, 'query.timeout'],
    ['?timeout=3601', {}, 'query.timeout'],
    ['?timeout=abc', {}, 'query.timeout'],
    ['?last_event_id=-1', {}, 'query.last_event_id'],
    ['', { 'last-event-id': 'abc' }, 'header.last-event-id'],
    ['', { 'last-event-id': '1.5' }, 'header.last-event-id'],
  ])('answers 422 for %s %j', async (query, headers, loc) => {
    const { id } = await createViaRest(s);
    const res = await stream(id, query, headers);
    const r = { status: res.status, headers: res.headers, body: await res.json() };
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(locsOf(r)).toEqual([loc]);
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After when the streamer is at capacity', async () => {
    const { id } = await createViaRest(s);
    const before = s.feed.slots.capacity.streams;
    s.feed.slots.capacity.streams = s.feed.slots.open.streams;
    try {
      const res = await stream(id);
      expectError({ status: res.status, headers: res.headers, body: await res.json() }, 503, 'SERVICE_UNAVAILABLE');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      s.feed.slots.capacity.streams = before;
    }
  });

  it('releases the stream when the client hangs up', async () => {
    const { id } = await createViaRest(s);
    const baseline = s.feed.slots.open.streams;
    const controller = new AbortController();
    await fetch(url(id, '?timeout=60'), { signal: controller.signal });
    await vi.waitFor(() => expect(s.feed.slots.open.streams).toBe(baseline + 1));
    controller.abort();
    await vi.waitFor(() => expect(s.feed.slots.open.streams).toBe(baseline));
  });

  it('gives an EventSource that is cut off and reconnects every event exactly once, in order', async () => {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [{ statusChanged: { to: 'RUNNING' } }]);

    // A fetch for EventSource that cuts each of the first connections mid-event (closing the TCP connection) after
    // a few events, and asks for quick reconnects (`retry: 50`) the way a server may.
    const lastEventIds: (string | null)[] = [];
    let cuts = 0;
    const cuttingFetch: FetchLike = async (input, init) => {
      lastEventIds.push(new Headers(init.headers).get('last-event-id'));
      const connection = new AbortController();
      init.signal?.addEventListener('abort', () => connection.abort());
      const res = await fetch(input, { ...init, signal: connection.signal });
      if (res.status !== 200 || !res.body) return res;
      const reader = res.body.getReader();
      const cutAfter = cuts < 4 ? 4 + cuts * 3 : Number.POSITIVE_INFINITY;
      let seen = 0;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(new TextEncoder().encode('retry: 50\n\n')),
        pull: async (c) => {
          const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (done || !value) return c.close();
          seen += (new TextDecoder().decode(value).match(/^id: /gm) ?? []).length;
          if (seen < cutAfter) return c.enqueue(value);
          cuts += 1;
          c.enqueue(value.subarray(0, Math.floor(value.length / 2)));
          c.close();
          connection.abort();
        },
        cancel: () => connection.abort(),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };

    const received: number[] = [];
    let terminal = false;
    const es = new EventSource(url(id, '?timeout=60'), { fetch: cuttingFetch });
    for (const name of EVENT_NAMES) {
      es.addEventListener(name, (e) => {
        received.push(Number(e.lastEventId));
        const d = JSON.parse(e.data) as { status?: string };
        if (name === 'status' && d.status === 'completed') terminal = true;
      });
    }
    try {
      // The worker writes while the client is being cut off and reconnects.
      for (let i = 0; i < 30; i++) {
        await recordViaRest(s, id, [
          { message: { messageId: `m${i}`, status: 'INITIATED' } },
          { progress: { percentage: i } },
          { message: { messageId: `m${i}`, status: i % 5 === 0 ? 'FAILED' : 'COMPLETED' } },
        ]);
        await sleep(20);
      }
      const { execution } = await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
      await vi.waitFor(() => expect(terminal).toBe(true), { timeout: 15_000 });
      expect(received).toEqual(range(1, execution.lastSequence));
      expect(cuts).toBe(4);
      // Every reconnect resumed from the last event the client had fully received.
      expect(lastEventIds[0]).toBeNull();
      expect(lastEventIds.slice(1, 5).every((v) => v !== null && Number(v) > 0)).toBe(true);
      // After the terminal event the stream ends; the reconnect gets 204 and EventSource gives up.
      await vi.waitFor(() => expect(es.readyState).toBe(es.CLOSED), { timeout: 5000 });
      expect(lastEventIds.at(-1)).toBe(String(execution.lastSequence));
    } finally {
      es.close();
    }
  });
});
