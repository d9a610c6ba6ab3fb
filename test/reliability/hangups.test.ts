import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExecution, DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

/** Wait and stream slots: small, so that leaked slots would turn real clients away with SERVICE_UNAVAILABLE. */
const SLOTS = 20;
const HANGUPS = 60;

type How = 'destroy' | 'end';
type Slot = 'waiters' | 'streams';

interface Surface {
  name: string;
  slot: Slot;
  /** The raw HTTP/1.1 request that holds a slot for an hour (or the longest the surface allows). */
  request(id: string): string;
}

function http(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const WAIT = 'query($id: ID!) { waitForExecution(id: $id, timeout: 3600) { completed } }';
const EVENTS = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 3600) { sequence } }';
const UPDATES = 'subscription { executionUpdated { id } }';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const SSE_HEADERS = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
const query = (q: string, variables: Record<string, unknown>) =>
  `query=${encodeURIComponent(q)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;

const SURFACES: Surface[] = [
  {
    name: 'GraphQL waitForExecution, POST (fast path)',
    slot: 'waiters',
    request: (id) => http('POST', '/graphql', JSON_HEADERS, JSON.stringify({ query: WAIT, variables: { id } })),
  },
  {
    name: 'GraphQL waitForExecution, POST handed to yoga',
    slot: 'waiters',
    request: (id) =>
      http('POST', '/graphql', JSON_HEADERS, JSON.stringify({ query: WAIT, variables: { id }, extensions: { a: 1 } })),
  },
  {
    name: 'GraphQL waitForExecution, GET (yoga)',
    slot: 'waiters',
    request: (id) => http('GET', `/graphql?${query(WAIT, { id })}`, { Accept: 'application/json' }),
  },
  {
    name: 'seed 000 POST /api/v1/executions/{id}/wait',
    slot: 'waiters',
    request: (id) => http('POST', `/api/v1/executions/${id}/wait`, JSON_HEADERS, '{"timeout":3600}'),
  },
  {
    name: 'seed 001 GET /workflows/executions/{id}/wait',
    slot: 'waiters',
    request: (id) => http('GET', `/workflows/executions/${id}/wait?timeoutMs=60000`),
  },
  {
    name: 'executionEvents over SSE at /graphql, POST (lean path)',
    slot: 'streams',
    request: (id) => http('POST', '/graphql', SSE_HEADERS, JSON.stringify({ query: EVENTS, variables: { id } })),
  },
  {
    name: 'executionUpdated over SSE at /graphql, POST (lean path)',
    slot: 'streams',
    request: () => http('POST', '/graphql', SSE_HEADERS, JSON.stringify({ query: UPDATES })),
  },
  {
    name: 'executionEvents over SSE at /graphql, GET (yoga)',
    slot: 'streams',
    request: (id) => http('GET', `/graphql?${query(EVENTS, { id })}`, { Accept: 'text/event-stream' }),
  },
  {
    name: 'executionEvents over graphql-sse distinct mode, POST (lean path)',
    slot: 'streams',
    request: (id) => http('POST', '/graphql/stream', SSE_HEADERS, JSON.stringify({ query: EVENTS, variables: { id } })),
  },
  {
    name: 'executionEvents over graphql-sse distinct mode, GET (yoga plugin)',
    slot: 'streams',
    request: (id) => http('GET', `/graphql/stream?${query(EVENTS, { id })}`, { Accept: 'text/event-stream' }),
  },
  {
    name: 'seed 002 GET /api/v1/executions/{id}/events',
    slot: 'streams',
    request: (id) => http('GET', `/api/v1/executions/${id}/events?timeout=3600`, { Accept: 'text/event-stream' }),
  },
];

/**
 * Sends a request on a raw socket and hangs up at once: `destroy` closes the socket, `end` half-closes it (node's
 * server then closes it too). Half of the clients do each.
 */
function hangUp(url: string, request: string, how: How): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(request);
      if (how === 'destroy') socket.destroy();
      else socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.resume();
  });
}

async function gauges(s: TestServer): Promise<Record<Slot, number>> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  return { waiters: read('vigil_open_waiters'), streams: read('vigil_open_streams') };
}

/** Every slot, held at once by real clients for a second: each one must be served, none turned away. */
async function fillWithRealClients(s: TestServer, slot: Slot, id: string): Promise<void> {
  if (slot === 'waiters') {
    const replies = await Promise.all(
      Array.from({ length: SLOTS }, () =>
        s.gql<{ waitForExecution: { completed: boolean } }>(
          'query($id: ID!) { waitForExecution(id: $id, timeout: 1) { completed } }',
          { id },
        ),
      ),
    );
    for (const r of replies) expect(r.errors).toBeUndefined();
    expect(replies.map((r) => r.data?.waitForExecution.completed)).toEqual(Array(SLOTS).fill(false));
    return;
  }
  const streams = await Promise.all(
    Array.from({ length: SLOTS }, () =>
      subscribeOnce(s.url, JSON.stringify({ query: EVENTS.replace('3600', '1'), variables: { id } })),
    ),
  );
  for (const { status, body } of streams) {
    expect(status).toBe(200);
    expect(body).toContain('event: complete');
    expect(body).not.toContain('event: next');
  }
}

/** One SSE subscription at /graphql on a connection of its own, read to its end. */
function subscribeOnce(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(DB_KINDS)('a client that hangs up at once frees its slot, on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, {
      env: { VIGIL_MAX_WAITERS: String(SLOTS), VIGIL_MAX_STREAMS: String(SLOTS) },
    });
  });
  afterAll(() => s.close());

  // One server for every surface: a surface that leaks fails its own test first (and the ones after it).
  it.each(SURFACES)('$name', { timeout: 60_000 }, async ({ slot, request }) => {
    const { id } = await createExecution(s);
    const hows: How[] = Array.from({ length: HANGUPS }, (_, i) => (i % 2 ? 'end' : 'destroy'));
    await Promise.all(hows.map((how) => hangUp(s.url, request(id), how)));
    // Long enough for the server to have read the requests; a leaked slot would be held for an hour.
    await new Promise((r) => setTimeout(r, 500));
    await vi.waitFor(async () => expect(await gauges(s)).toEqual({ waiters: 0, streams: 0 }), {
      timeout: 10_000,
      interval: 50,
    });
    await fillWithRealClients(s, slot, id);
    expect(await gauges(s)).toEqual({ waiters: 0, streams: 0 });
  });
});
