import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, type DbKind, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, revokeKey, type TestKey } from '../support/keys.js';
import { UNKNOWN_ID } from '../support/rest.js';

/** What a client got: the status and the whole body (an event stream is read for at most `ms`). */
interface Answer {
  status: number;
  body: string;
}

async function answer(url: string, init: RequestInit = {}, ms = 3000): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const res = await fetch(url, { ...init, signal: controller.signal });
    let body = '';
    try {
      body = await res.text();
    } catch {
      // an event stream still open when the time ran out: what arrived is enough
    }
    return { status: res.status, body };
  } finally {
    clearTimeout(timer);
  }
}

/** Never a stack trace or a file path in what a client reads (issue 14, item 6). */
function expectNoInternals(a: Answer): void {
  expect(a.body).not.toMatch(/\n\s*at /);
  expect(a.body).not.toMatch(/\bat \S+ \(/);
  expect(a.body).not.toContain('/src/');
  expect(a.body).not.toContain('node_modules');
}

function expectRefusal(a: Answer, status: number, code: string): void {
  expect(a.status, a.body).toBe(status);
  expect(a.body).toMatch(new RegExp(`"(code|error_code)":"${code}"`));
  expectNoInternals(a);
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };
const SUBSCRIPTION = `subscription { executionEvents(executionId: "${UNKNOWN_ID}", timeout: 1) { sequence } }`;
const QUERY = '{ executions { edges { cursor } } }';
const MUTATION = 'mutation { createExecution(input: {workflowId: "refused"}) { id } }';
const body = (query: string, extensions?: Record<string, unknown>) => JSON.stringify({ query, extensions });

interface Ctx {
  s: TestServer;
  /** A single-connection stream reserved and held open with a valid key. */
  token: string;
}

type Transport = [name: string, (c: Ctx, headers: Record<string, string>) => Promise<Answer>];

/** Every transport of Vigil's HTTP surface. */
const TRANSPORTS: Transport[] = [
  [
    'POST /graphql query (JSON)',
    (c, h) => answer(`${c.s.url}/graphql`, { method: 'POST', headers: { ...JSON_HEADERS, ...h }, body: body(QUERY) }),
  ],
  [
    'POST /graphql mutation (JSON)',
    (c, h) =>
      answer(`${c.s.url}/graphql`, { method: 'POST', headers: { ...JSON_HEADERS, ...h }, body: body(MUTATION) }),
  ],
  ['GET /graphql query', (c, h) => answer(`${c.s.url}/graphql?query=${encodeURIComponent(QUERY)}`, { headers: h })],
  [
    'POST /graphql subscription (yoga SSE)',
    (c, h) =>
      answer(`${c.s.url}/graphql`, { method: 'POST', headers: { ...SSE_HEADERS, ...h }, body: body(SUBSCRIPTION) }),
  ],
  ...(
    [
      ['subscription', SUBSCRIPTION],
      ['query', QUERY],
      ['mutation', MUTATION],
    ] as const
  ).map(
    ([kind, query]): Transport => [
      `POST /graphql/stream ${kind} (graphql-sse distinct)`,
      (c, h) =>
        answer(`${c.s.url}/graphql/stream`, { method: 'POST', headers: { ...SSE_HEADERS, ...h }, body: body(query) }),
    ],
  ),
  [
    'GET /graphql/stream subscription (graphql-sse distinct)',
    (c, h) =>
      answer(`${c.s.url}/graphql/stream?query=${encodeURIComponent(SUBSCRIPTION)}`, {
        headers: { accept: 'text/event-stream', ...h },
      }),
  ],
  [
    'PUT /graphql/stream (single connection: reserve)',
    (c, h) => answer(`${c.s.url}/graphql/stream`, { method: 'PUT', headers: h }),
  ],
  [
    'GET /graphql/stream with a token (single connection: stream)',
    (c, h) =>
      answer(`${c.s.url}/graphql/stream`, {
        headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': c.token, ...h },
      }),
  ],
  [
    'POST /graphql/stream with a token (single connection: operation)',
    (c, h) =>
      answer(`${c.s.url}/graphql/stream`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'x-graphql-event-stream-token': c.token, ...h },
        body: body(SUBSCRIPTION, { operationId: 'op-1' }),
      }),
  ],
  ['GET a REST route', (c, h) => answer(`${c.s.url}/api/v1/executions/${UNKNOWN_ID}`, { headers: h })],
  [
    'GET a REST event stream',
    (c, h) =>
      answer(`${c.s.url}/api/v1/executions/${UNKNOWN_ID}/events`, { headers: { accept: 'text/event-stream', ...h } }),
  ],
];

interface Keys {
  testOnly: TestKey;
  both: TestKey;
  revoked: TestKey;
}

/** Every way access can fail (API.md §5), with the contract's answer (API.md §4). */
const FAILURES: [name: string, (k: Keys) => Record<string, string>, status: number, code: string][] = [
  ['no key', () => ({}), 401, 'UNAUTHORIZED'],
  ['an Authorization that is not Bearer', () => ({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'UNAUTHORIZED'],
  ['Bearer without a key', () => ({ authorization: 'Bearer' }), 401, 'UNAUTHORIZED'],
  ['Bearer with two tokens', () => ({ authorization: 'Bearer one two' }), 401, 'UNAUTHORIZED'],
  ['a bare token', () => ({ authorization: 'vigil_bare' }), 401, 'UNAUTHORIZED'],
  ['an unknown key', () => ({ authorization: 'Bearer vigil_unknown_key' }), 401, 'UNAUTHORIZED'],
  ['a revoked key', (k) => k.revoked.headers, 401, 'UNAUTHORIZED'],
  ['an environment the key may not use', (k) => ({ ...k.testOnly.headers, 'x-environment': 'live' }), 403, 'FORBIDDEN'],
  ['no X-Environment for a key with both', (k) => k.both.headers, 422, 'VALIDATION_FAILED'],
  ['a bogus X-Environment', (k) => ({ ...k.testOnly.headers, 'x-environment': 'prod' }), 422, 'VALIDATION_FAILED'],
];

/** The failures of the key itself, run on the yoga-only path too (VIGIL_FAST_GRAPHQL=off). */
const KEY_FAILURES = FAILURES.filter(([name]) => ['no key', 'an unknown key', 'a revoked key'].includes(name));

const SETUPS = DB_KINDS.flatMap((kind) => [
  [kind, 'on', FAILURES],
  [kind, 'off', KEY_FAILURES],
]) as [DbKind, 'on' | 'off', typeof FAILURES][];

describe.each(SETUPS)('access failures on every transport, on %s with the lean paths %s', (kind, lean, failures) => {
  const ctx = {} as Ctx;
  const keys = {} as Keys;
  const held = new AbortController();
  beforeAll(async () => {
    ctx.s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on', VIGIL_FAST_GRAPHQL: lean } });
    keys.testOnly = await makeKey(ctx.s, 'acme', ['executions:read', 'executions:write']);
    keys.both = await makeKey(ctx.s, 'acme', ['executions:read'], ['test', 'live']);
    keys.revoked = await makeKey(ctx.s, 'acme', ['executions:read']);
    await revokeKey(ctx.s, keys.revoked.id);
    const put = await fetch(`${ctx.s.url}/graphql/stream`, { method: 'PUT', headers: keys.testOnly.headers });
    expect(put.status).toBe(201);
    ctx.token = await put.text();
    const stream = await fetch(`${ctx.s.url}/graphql/stream`, {
      headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': ctx.token, ...keys.testOnly.headers },
      signal: held.signal,
    });
    expect(stream.status).toBe(200);
  });
  afterAll(async () => {
    held.abort();
    await ctx.s.close();
  });

  describe.each(failures)('%s', (_name, headersOf, status, code) => {
    it.each(TRANSPORTS)(`%s → ${status} ${code}, never 500, no stack`, async (_transport, send) => {
      expectRefusal(await send(ctx, headersOf(keys)), status, code);
    });
  });

  it.each(KEY_FAILURES)('%s on every route of the OpenAPI document → 401 UNAUTHORIZED', async (_name, headersOf) => {
    const doc = (await (await fetch(`${ctx.s.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((method) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, UNKNOWN_ID)] as const),
    );
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const answers = await Promise.all(
      routes.map(async ([method, path]) => {
        const withBody = method !== 'GET' && method !== 'DELETE';
        const a = await answer(`${ctx.s.url}${path}`, {
          method,
          headers: { ...(withBody && JSON_HEADERS), ...headersOf(keys) },
          ...(withBody && { body: '{}' }),
        });
        return { route: `${method} ${path}`, status: a.status, code: /"error_code":"(\w+)"/.exec(a.body)?.[1] };
      }),
    );
    expect(answers.filter((a) => a.status !== 401 || a.code !== 'UNAUTHORIZED')).toEqual([]);
  });
});
