import { type IncomingMessage, request } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, revokeKey, type TestKey } from '../support/keys.js';
import { expectError, locsOf, rest, sleep, UNKNOWN_ID } from '../support/rest.js';

/**
 * `GET /api/v1/executions/{id}/logs?follow=true` is served on node:http directly (not through Hono's adapter, which
 * keeps a request wrapper and a close listener per held request). It must answer exactly as the REST route does:
 * the caller's key, the same refusals as JSON, resume by `after`, the text alone with TCP keep-alive for heartbeats,
 * its end at shutdown, when the key is revoked and when the client leaves.
 */
const HEARTBEAT_MS = 100;

async function startKeyed(kind: (typeof DB_KINDS)[number]) {
  const s = await startTestServer(kind, {
    env: { VIGIL_AUTH: 'on', VIGIL_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS), VIGIL_KEY_RECHECK_MS: '200' },
  });
  const acme = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
  const other = await makeKey(s, 'globex', ['executions:read', 'executions:write']);
  return { s, acme, other };
}

async function created(s: TestServer, key: TestKey): Promise<string> {
  const r = await rest<{ id: string }>(s, 'POST', '/api/v1/executions', {
    json: { workflowId: 'wf-follow' },
    headers: key.headers,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

async function recorded(s: TestServer, key: TestKey, id: string, events: unknown[]): Promise<void> {
  const r = await rest(s, 'POST', `/api/v1/executions/${id}/events`, { json: { events }, headers: key.headers });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const line = (text: string) => ({ log: { text } });

/** A follower: its response, and its body read as text until a condition or the end. */
async function follow(s: TestServer, key: TestKey, id: string, query = '', signal?: AbortSignal) {
  const res = await fetch(`${s.url}/api/v1/executions/${id}/logs?follow=true&timeout=60${query}`, {
    headers: key.headers,
    signal,
  });
  if (!res.body) throw new Error('no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let ended = false;
  /** Reads until `until(text)` holds or the body ends; resolves with whether it ended. */
  const read = async (until: (t: string) => boolean = () => false, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!ended && !until(text)) {
      const next = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => null)]);
      if (next === null) throw new Error(`no more text within ${ms} ms; have ${JSON.stringify(text)}`);
      if (next.done) ended = true;
      else text += next.value;
    }
    return ended;
  };
  return { res, read, text: () => text };
}

/**
 * A GET or HEAD with the request target exactly as given (fetch would resolve `..` itself), read until it ends:
 * resolves with the response once its headers arrive, and `body` once it ends.
 */
function raw(s: TestServer, method: 'GET' | 'HEAD', target: string, headers: Record<string, string>) {
  const url = new URL(s.url);
  return new Promise<{ res: IncomingMessage; body: Promise<string> }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: target, headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (d: string) => {
        text += d;
      });
      resolve({ res, body: new Promise((done) => res.on('end', () => done(text))) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(DB_KINDS)('a followed log on node:http on %s', (kind) => {
  let s: TestServer;
  let acme: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    ({ s, acme, other } = await startKeyed(kind));
  });
  afterAll(() => s.close());
  afterEach(() => vi.restoreAllMocks());

  it('refuses as the REST route does, as JSON with the contract code, before any body', async () => {
    const id = await created(s, acme);
    const path = (query: string, exec = id) => `/api/v1/executions/${exec}/logs?follow=true${query}`;
    const missing = await rest(s, 'GET', path(''), { headers: { 'x-correlation-id': 'follow-401' } });
    expectError(missing, 401, 'UNAUTHORIZED');
    expect(missing.headers.get('x-correlation-id')).toBe('follow-401');
    expect(missing.body.correlation_id).toBe('follow-401');
    expectError(await rest(s, 'GET', path(''), { headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHORIZED');
    expectError(await rest(s, 'GET', path('', UNKNOWN_ID), { headers: acme.headers }), 404, 'EXECUTION_NOT_FOUND');
    // Another tenant's execution does not exist for this key.
    expectError(await rest(s, 'GET', path(''), { headers: other.headers }), 404, 'EXECUTION_NOT_FOUND');
    const timeout = await rest(s, 'GET', path('&timeout=3601'), { headers: acme.headers });
    expectError(timeout, 422, 'VALIDATION_FAILED');
    expect(locsOf(timeout)).toEqual(['query.timeout']);
    const after = await rest(s, 'GET', path('&after=-1'), { headers: acme.headers });
    expectError(after, 422, 'VALIDATION_FAILED');
    expect(locsOf(after)).toEqual(['query.after']);
    expect(s.feed.slots.open.streams).toBe(0);
  });

  it('resumes after the Vigil-Last-Sequence of a plain read, with no gap and no duplicate', async () => {
    const id = await created(s, acme);
    await recorded(s, acme, id, [{ statusChanged: { to: 'RUNNING' } }, line('one\n'), line('two')]);
    const plain = await fetch(`${s.url}/api/v1/executions/${id}/logs`, { headers: acme.headers });
    expect(await plain.text()).toBe('one\ntwo\n');
    const last = plain.headers.get('vigil-last-sequence');
    expect(last).toBe('3');
    const f = await follow(s, acme, id, `&after=${last}`);
    expect(f.res.status).toBe(200);
    expect(f.res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    await recorded(s, acme, id, [line('three\n'), { progress: { percentage: 50 } }, line('four\n')]);
    await f.read((t) => t.endsWith('four\n'));
    await recorded(s, acme, id, [line('five\n'), { statusChanged: { to: 'COMPLETED' } }]);
    expect(await f.read()).toBe(true); // the execution is terminal: the body ends
    expect(f.text()).toBe('three\nfour\nfive\n');
  });

  it('writes the text alone while quiet and keeps the connection with TCP keep-alive at the heartbeat', async () => {
    const keepAlive = vi.spyOn(Socket.prototype, 'setKeepAlive');
    const id = await created(s, acme);
    await recorded(s, acme, id, [line('before\n')]);
    const f = await follow(s, acme, id);
    await f.read((t) => t === 'before\n');
    expect(keepAlive.mock.calls).toContainEqual([true, HEARTBEAT_MS]);
    await sleep(HEARTBEAT_MS * 4); // heartbeats pass: nothing is written into the text
    await recorded(s, acme, id, [line('after\n'), { statusChanged: { to: 'FAILED' } }]);
    expect(await f.read()).toBe(true);
    expect(f.text()).toBe('before\nafter\n');
  });

  it('lets go of the stream when the client leaves, and when its key is revoked', async () => {
    const id = await created(s, acme);
    const gone = new AbortController();
    const f = await follow(s, acme, id, '', gone.signal);
    expect(f.res.status).toBe(200);
    expect(s.feed.slots.open.streams).toBe(1);
    gone.abort();
    await vi.waitFor(() => expect(s.feed.slots.open.streams).toBe(0), { timeout: 5000 });

    const doomed = await makeKey(s, 'acme', ['executions:read']);
    const g = await follow(s, doomed, id);
    expect(g.res.status).toBe(200);
    await recorded(s, acme, id, [line('seen\n')]);
    await g.read((t) => t === 'seen\n');
    await revokeKey(s, doomed.id);
    expect(await g.read()).toBe(true);
    expect(s.feed.slots.open.streams).toBe(0);
  });

  it('is the one way in for a followed log: a HEAD, and a path the route matches written otherwise, follow too', async () => {
    for (const [method, target] of [
      ['HEAD', (id: string) => `/api/v1/executions/${id}/logs?follow=true&timeout=60`],
      ['GET', (id: string) => `/api/v1/executions/${id}/%6Cogs?follow=true&timeout=60`],
      ['GET', (id: string) => `/api/v1/executions/${id}/step/../logs?follow=true&timeout=60`],
    ] as const) {
      const id = await created(s, acme);
      await recorded(s, acme, id, [line('stored\n')]);
      const { res, body } = await raw(s, method, target(id), acme.headers);
      // a followed answer (a plain read would say where it ended, and end at once), held until the execution ends
      expect(res.statusCode, `${method} ${target(id)}`).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['vigil-last-sequence']).toBeUndefined();
      if (method === 'GET') expect(s.feed.slots.open.streams).toBe(1);
      await recorded(s, acme, id, [line('live\n'), { statusChanged: { to: 'COMPLETED' } }]);
      // (a HEAD's client has its answer at the headers, and lets go of the connection)
      expect(await body).toBe(method === 'HEAD' ? '' : 'stored\nlive\n');
      await vi.waitFor(() => expect(s.feed.slots.open.streams).toBe(0), { timeout: 5000 });
    }
    // refused as the route refuses, a HEAD included
    const head = await raw(s, 'HEAD', `/api/v1/executions/${UNKNOWN_ID}/logs?follow=true`, acme.headers);
    expect(head.res.statusCode).toBe(404);
    await head.body;
  });

  it('ends the body at shutdown, with what was written', async () => {
    const own = await startKeyed(kind);
    try {
      const id = await created(own.s, own.acme);
      await recorded(own.s, own.acme, id, [line('stored\n')]);
      const f = await follow(own.s, own.acme, id);
      await f.read((t) => t === 'stored\n');
      const closing = own.s.close();
      expect(await f.read()).toBe(true);
      expect(f.text()).toBe('stored\n');
      await closing;
    } finally {
      await own.s.close();
    }
  });
});
