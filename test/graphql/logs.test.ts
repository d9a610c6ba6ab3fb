import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, type Result, subscribe, TRANSPORTS, take } from '../support/subscribe.js';

const LOGS = `query($id: ID!, $after: Int, $first: Int) {
  execution(id: $id) { lastSequence logBytes logTruncated logs(after: $after, first: $first) { sequence type stream level text } }
}`;
const EVENTS = `query($id: ID!) { execution(id: $id) { events(first: 500) { sequence type ... on LogEvent { stream level text } } } }`;
const STREAM = `subscription($id: ID!, $after: Int, $types: [ExecutionEventType!]) {
  executionEvents(executionId: $id, after: $after, types: $types, timeout: 30) {
    sequence type ... on LogEvent { stream level text } ... on StatusChangedEvent { to }
  }
}`;

interface Log {
  sequence: number;
  type: string;
  stream: string;
  level: string | null;
  text: string;
}
interface Logs {
  execution: { lastSequence: number; logBytes: number; logTruncated: boolean; logs: Log[] };
}
type Streamed = { executionEvents: { sequence: number; type: string; text?: string; to?: string } };

/** The event of one streamed result, which must carry no error. */
function eventOf(r: Result<Streamed>): Streamed['executionEvents'] {
  expect(r.errors).toBeUndefined();
  const e = r.data?.executionEvents;
  if (!e) throw new Error(`no event in ${JSON.stringify(r)}`);
  return e;
}

const line = (text: string, extra: Record<string, unknown> = {}) => ({ log: { text, ...extra } });

describe.each(DB_KINDS)('logs on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  const logsOf = async (id: string, after = 0, first = 1000) =>
    ok(await s.gql<Logs>(LOGS, { id, after, first })).execution;

  it('records LOG events on the one sequence, batched with other kinds, as written', async () => {
    const { id } = await createExecution(s);
    const coloured = '\u001b[32mgreen\u001b[0m ünïcödé 🎉\n';
    const res = ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        line('first\n'),
        { progress: { percentage: 10 } },
        line(coloured, { stream: 'stderr', level: 'ERROR' }),
        line('no newline'),
      ]),
    );
    expect(res.recordExecutionEvents.events.map((e) => e.type)).toEqual([
      'STATUS_CHANGED',
      'LOG',
      'PROGRESS',
      'LOG',
      'LOG',
    ]);
    const e = await logsOf(id);
    expect(e.lastSequence).toBe(5);
    expect(e.logTruncated).toBe(false);
    expect(e.logBytes).toBe(Buffer.byteLength(`first\n${coloured}no newline`));
    expect(e.logs).toEqual([
      { sequence: 2, type: 'LOG', stream: 'stdout', level: null, text: 'first\n' },
      { sequence: 4, type: 'LOG', stream: 'stderr', level: 'ERROR', text: coloured },
      { sequence: 5, type: 'LOG', stream: 'stdout', level: null, text: 'no newline' },
    ]);
    expect((await logsOf(id, 2, 1)).logs.map((l) => l.sequence)).toEqual([4]);
    const all = ok(await s.gql<{ execution: { events: { sequence: number; type: string }[] } }>(EVENTS, { id }));
    expect(all.execution.events.map((x) => x.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('accepts a text of exactly 64 KiB', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [line('é'.repeat(32_768))]));
    expect((await logsOf(id)).logBytes).toBe(65_536);
  });

  it.each([
    ['a text over 64 KiB', line(`${'é'.repeat(32_768)}x`), ['events', 1, 'log', 'text']],
    ['a NUL byte', line('a\u0000b'), ['events', 1, 'log', 'text']],
    ['an unpaired surrogate', line('a\ud800b'), ['events', 1, 'log', 'text']],
    ['the server’s own stream', line('x', { stream: 'vigil' }), ['events', 1, 'log', 'stream']],
    ['an empty stream name', line('x', { stream: '' }), ['events', 1, 'log', 'stream']],
  ])('refuses %s with VALIDATION_FAILED and writes nothing of the batch', async (_name, bad, loc) => {
    const { id } = await createExecution(s);
    const res = await record(s, id, [{ progress: { percentage: 5 } }, bad]);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect((res.errors?.[0]?.extensions?.issues as { loc: unknown }[] | undefined)?.[0]?.loc).toEqual(loc);
    const e = await logsOf(id);
    expect(e.lastSequence).toBe(0);
    expect(e.logs).toEqual([]);
  });

  it('refuses an unknown level with VALIDATION_FAILED and writes nothing', async () => {
    const { id } = await createExecution(s);
    const res = await record(s, id, [{ progress: { percentage: 5 } }, line('x', { level: 'NOTICE' })]);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect((await logsOf(id)).lastSequence).toBe(0);
  });

  it.each([
    ['a negative after', { after: -1 }],
    ['first over 10000', { first: 10_001 }],
  ])('refuses %s of Execution.logs with VALIDATION_FAILED', async (_name, args) => {
    const { id } = await createExecution(s);
    const res = await s.gql(LOGS, { id, after: 0, first: 10, ...args });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
  });

  it.each(TRANSPORTS)(
    'streams only the types asked for, replay then live, and completes at the terminal event (%s)',
    async (transport) => {
      const { id } = await createExecution(s);
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, line('a\n'), { progress: { percentage: 1 } }]));
      const sub = subscribe<Streamed>(s.url, transport, STREAM, { id, types: ['LOG'] });
      const first = await take(sub, 1);
      ok(await record(s, id, [{ progress: { percentage: 2 } }, line('b\n'), line('c\n')]));
      ok(await record(s, id, [{ progress: { percentage: 3 } }, line('d\n'), { statusChanged: { to: 'COMPLETED' } }]));
      const rest = await collect(sub);
      const got = [...first, ...rest].map(eventOf);
      expect(got.map((g) => [g.sequence, g.text])).toEqual([
        [2, 'a\n'],
        [5, 'b\n'],
        [6, 'c\n'],
        [8, 'd\n'],
      ]);
    },
  );

  it.each(TRANSPORTS)('resumes a mixed stream by after with no gap and no duplicate (%s)', async (transport) => {
    const { id } = await createExecution(s);
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        line('1'),
        { progress: { percentage: 1 } },
        line('2'),
      ]),
    );
    const seen: number[] = [];
    const one = subscribe<Streamed>(s.url, transport, STREAM, { id });
    for (const r of await take(one, 3)) seen.push(eventOf(r).sequence);
    await one.close();
    ok(await record(s, id, [line('3'), { progress: { percentage: 2 } }]));
    const two = subscribe<Streamed>(s.url, transport, STREAM, { id, after: seen.at(-1) });
    const live = take(two, 3);
    ok(await record(s, id, [line('4'), { statusChanged: { to: 'FAILED' } }]));
    for (const r of await live) seen.push(eventOf(r).sequence);
    for (const r of await collect(two)) seen.push(eventOf(r).sequence);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe.each(DB_KINDS)('the log cap on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_LOG_LIMIT_BYTES: '1000' } });
  });
  afterAll(() => s.close());

  it('drops lines past VIGIL_LOG_LIMIT_BYTES whole and says so exactly once, under concurrent batches', async () => {
    const { id } = await createExecution(s);
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    // 24 concurrent batches of 3 × 30-byte lines and a progress report: 2,160 bytes offered, 1,000 allowed.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        record(s, id, [
          line(`${String(i).padStart(2, '0')}a${'x'.repeat(27)}`),
          line('b'.repeat(30)),
          { progress: { percentage: i } },
          line('c'.repeat(30)),
        ]),
      ),
    );
    for (const r of results) ok(r);
    const e = ok(await s.gql<Logs>(LOGS, { id, after: 0, first: 1000 })).execution;
    const notices = e.logs.filter((l) => l.stream === 'vigil');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.level).toBe('WARN');
    expect(e.logTruncated).toBe(true);
    const kept = e.logs.filter((l) => l.stream !== 'vigil');
    expect(kept).toHaveLength(33); // 33 × 30 = 990; the 34th would cross 1,000
    expect(e.logBytes).toBe(990);
    // The notice comes where the first line was dropped: every kept line is before it.
    expect(Math.max(...kept.map((l) => l.sequence))).toBeLessThan(notices[0]?.sequence ?? 0);
    // Every progress report applied: 1 status change + 24 progress + 33 lines + 1 notice.
    expect(e.lastSequence).toBe(1 + 24 + 33 + 1);
    // A later batch applies its other events and adds no notice.
    ok(await record(s, id, [line('late'), { statusChanged: { to: 'COMPLETED' } }]));
    const after = ok(await s.gql<Logs>(LOGS, { id, after: 0, first: 1000 })).execution;
    expect(after.logs.filter((l) => l.stream === 'vigil')).toHaveLength(1);
    expect(after.lastSequence).toBe(e.lastSequence + 1);
  });
});
