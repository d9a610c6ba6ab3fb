import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorOf } from '../support/changes.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { readSse } from '../support/sse.js';

describe.each(DB_KINDS)('GET /api/v1/executions/changes on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_SSE_HEARTBEAT_MS: '200' } });
  });
  afterAll(() => s.close());

  const open = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/api/v1/executions/changes${query}`, { headers: { accept: 'text/event-stream', ...headers } });

  it('streams event: execution with the cursor as id, filtered like the list; Last-Event-ID wins over after', async () => {
    const start = await cursorOf(s);
    const a = await createExecution(s, { workflowId: 'rest-changes', tags: [{ key: 'team', value: 'data' }] });
    await createExecution(s, { workflowId: 'rest-changes', tags: [{ key: 'team', value: 'web' }] });
    ok(await record(s, a.id, [{ statusChanged: { to: 'RUNNING' } }]));
    // `after` is garbage: the header wins, so it is never read.
    const res = await open('?tag=team=data&workflowId=rest-changes&after=garbage', { 'last-event-id': start });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const messages = readSse(res, 10_000);
    const first = (await messages.next()).value;
    expect(first?.event).toBe('execution');
    const data = JSON.parse(first?.data ?? '{}');
    expect(first?.id).toBe(data.cursor);
    expect(data.execution).toMatchObject({ id: a.id, status: 'RUNNING', workflowId: 'rest-changes' });
    ok(await record(s, a.id, [{ progress: { percentage: 60 } }]));
    const second = (await messages.next()).value;
    expect(JSON.parse(second?.data ?? '{}').execution).toMatchObject({ id: a.id, lastSequence: 2 });
    await messages.return(undefined);

    // Resuming with the last id gets only what came after it.
    const resumed = await open('', { 'last-event-id': second?.id as string });
    const next = readSse(resumed, 10_000);
    ok(await record(s, a.id, [{ statusChanged: { to: 'COMPLETED' } }]));
    const third = (await next.next()).value;
    expect(JSON.parse(third?.data ?? '{}').execution).toMatchObject({ id: a.id, status: 'COMPLETED' });
    await next.return(undefined);
  });

  it('refuses a forged cursor and a bad filter with 422 before any stream', async () => {
    for (const [query, headers] of [
      ['?after=1.2.AAAAAAAAAAAAAAAAAAAAAA', {}],
      ['', { 'last-event-id': 'nope' }],
      ['?tag=novalue', {}],
    ] as const) {
      const res = await open(query, headers);
      expect(res.status).toBe(422);
      const body = await res.json();
      expect(body.error_code).toBe('VALIDATION_FAILED');
      expect(body.detail[0].loc[0]).toBe('query');
    }
  });

  it('is in /openapi.json', async () => {
    const doc = await (await fetch(`${s.url}/openapi.json`)).json();
    expect(doc.paths['/api/v1/executions/changes'].get.responses['200'].content).toHaveProperty('text/event-stream');
  });
});
