import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { createViaRest, expectError, locsOf, recordViaRest, rest, sleep, UNKNOWN_ID } from '../support/rest.js';
import { collectSse, readSse, type SseMessage } from '../support/sse.js';

const log = (text: string, extra: Record<string, unknown> = {}) => ({ log: { text, ...extra } });
const data = (m: SseMessage) => JSON.parse(m.data) as Record<string, unknown>;
const TEXTS = ['plain line\n', '\u001b[1;32mbold green\u001b[0m and ünïcödé 🎉', 'two\nlines\n', 'no newline'];
/** What the text endpoint writes for TEXTS: each as written, a newline added where one is missing. */
const EXPECTED = 'plain line\n\u001b[1;32mbold green\u001b[0m and ünïcödé 🎉\ntwo\nlines\nno newline\n';

describe.each(DB_KINDS)('logs over REST on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SSE_HEARTBEAT_MS: '100' } });
  });
  afterAll(() => s.close());
  const logsUrl = (id: string, query = '') => `${s.url}/api/v1/executions/${id}/logs${query}`;

  /** An execution with a status change, TEXTS as LOG events (one on stderr) and a progress report between them. */
  async function mixed(): Promise<string> {
    const { id } = await createViaRest(s);
    await recordViaRest(s, id, [
      { statusChanged: { to: 'RUNNING' } },
      log(TEXTS[0] as string),
      { progress: { percentage: 10 } },
      log(TEXTS[1] as string, { stream: 'stderr', level: 'ERROR' }),
    ]);
    await recordViaRest(s, id, [log(TEXTS[2] as string, { level: 'DEBUG' }), log(TEXTS[3] as string)]);
    return id;
  }

  it('seed 002 sends LOG events as event: log with stream, lowercase level and text', async () => {
    const id = await mixed();
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const all = await collectSse(await fetch(`${s.url}/api/v1/executions/${id}/events`));
    expect(all.map((m) => m.event)).toEqual(['status', 'log', 'progress', 'log', 'log', 'log', 'status']);
    const logs = all.filter((m) => m.event === 'log');
    expect(logs.map((m) => m.id)).toEqual(['2', '4', '5', '6']);
    const second = data(logs[1] as SseMessage);
    expect(second).toEqual({
      execution_id: id,
      sequence: 4,
      occurred_at: expect.stringMatching(/Z$/),
      stream: 'stderr',
      level: 'error',
      text: TEXTS[1],
    });
    expect(logs.map((m) => data(m).text)).toEqual(TEXTS);
    expect(logs.map((m) => data(m).level)).toEqual([null, 'error', 'debug', null]);
  });

  it('answers the stored texts as text/plain, byte for byte, with Vigil-Last-Sequence', async () => {
    const id = await mixed();
    const res = await fetch(logsUrl(id));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('vigil-last-sequence')).toBe('6');
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(EXPECTED, 'utf8'))).toBe(true);
    // Resuming after a sequence gives the rest; after the last, nothing, and the header stays where it was.
    const rest4 = await fetch(logsUrl(id, '?after=4'));
    expect(await rest4.text()).toBe('two\nlines\nno newline\n');
    expect(rest4.headers.get('vigil-last-sequence')).toBe('6');
    const none = await fetch(logsUrl(id, '?after=6'));
    expect(await none.text()).toBe('');
    expect(none.headers.get('vigil-last-sequence')).toBe('6');
  });

  it('follows: streams new texts as they are recorded and ends when the execution is terminal', async () => {
    const id = await mixed();
    const res = await fetch(logsUrl(id, '?after=3&follow=true&timeout=30'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    if (!res.body) throw new Error('no body');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.endsWith('no newline\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toBe(EXPECTED.slice(EXPECTED.indexOf('\u001b')));
    await recordViaRest(s, id, [log('live one\n'), { progress: { percentage: 90 } }]);
    await recordViaRest(s, id, [log('last'), { statusChanged: { to: 'FAILED' } }]);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text.endsWith('no newline\nlive one\nlast\n')).toBe(true);
  });

  it('follow ends at once, after the stored texts, when the execution is already terminal', async () => {
    const id = await mixed();
    await recordViaRest(s, id, [{ statusChanged: { to: 'COMPLETED' } }]);
    const res = await fetch(logsUrl(id, '?follow=true'));
    expect(await res.text()).toBe(EXPECTED);
  });

  it.each([
    ['an unknown execution', UNKNOWN_ID, '', 404, 'EXECUTION_NOT_FOUND'],
    ['a negative after', null, '?after=-1', 422, 'VALIDATION_FAILED'],
    ['a follow that is not a boolean', null, '?follow=yes', 422, 'VALIDATION_FAILED'],
    ['a timeout over 3600', null, '?follow=true&timeout=3601', 422, 'VALIDATION_FAILED'],
  ])('refuses %s with the contract code', async (_name, given, query, status, code) => {
    const id = given ?? (await createViaRest(s)).id;
    const r = await rest(s, 'GET', `/api/v1/executions/${id}/logs${query}`);
    expectError(r, status, code);
    if (status === 422) expect(locsOf(r)[0]).toMatch(/^query\./);
  });

  it('a follower of a 100,000-line run that disconnects mid-way resumes with no gap and no duplicate', async () => {
    const { id } = await createViaRest(s);
    const LINES = 100_000;
    const BATCH = 1000;
    for (let b = 0; b < LINES / BATCH; b++) {
      await recordViaRest(
        s,
        id,
        Array.from({ length: BATCH }, (_, i) => log(`line ${b * BATCH + i} ${'x'.repeat(60)}\n`)),
      );
    }
    // The plain text is every line, in order.
    const whole = await (await fetch(logsUrl(id))).text();
    expect(whole.length).toBe(
      Array.from({ length: LINES }, (_, i) => `line ${i} ${'x'.repeat(60)}\n`.length).reduce((a, b) => a + b, 0),
    );
    // A seed 002 follower reads half, drops the connection, and resumes with Last-Event-ID.
    const seen: number[] = [];
    const controller = new AbortController();
    const first = await fetch(`${s.url}/api/v1/executions/${id}/events`, { signal: controller.signal });
    for await (const m of readSse(first, 60_000)) {
      seen.push(Number(m.id));
      if (seen.length === LINES / 2) break;
    }
    controller.abort();
    await sleep(50);
    const resumed = await fetch(`${s.url}/api/v1/executions/${id}/events`, {
      headers: { 'last-event-id': String(seen.at(-1)) },
    });
    const live = (async () => {
      for await (const m of readSse(resumed, 60_000)) seen.push(Number(m.id));
    })();
    await sleep(100);
    await recordViaRest(s, id, [log('the end\n'), { statusChanged: { to: 'COMPLETED' } }]);
    await live;
    expect(seen).toHaveLength(LINES + 2);
    expect(seen.every((sequence, i) => sequence === i + 1)).toBe(true);
  }, 180_000);
});
