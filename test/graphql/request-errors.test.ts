import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_LIMITS } from '../../src/graphql/armor.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

interface Answer {
  status: number;
  type: string;
  body: string;
}

async function answer(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

function expectCoded(a: Answer, status: number, code: string, message?: RegExp): void {
  expect(a.status, a.body).toBe(status);
  expect(a.body).toContain(`"code":"${code}"`);
  if (message) expect(a.body).toMatch(message);
  expect(a.body).not.toMatch(/\n\s*at |\/src\/|node_modules/);
  expect(a.body).not.toContain('"http"'); // yoga's status hint stays inside
}

const DOCUMENT_ERROR = { query: '{ nope }' };
const VARIABLE_ERROR = { query: 'query($id: ID!) { execution(id: $id) { id } }', variables: {} };
const OVER_ALIASES = {
  query: `{ ${Array.from({ length: DOCUMENT_LIMITS.aliases + 5 }, (_, i) => `a${i}: executions { edges { cursor } }`).join(' ')} }`,
};
const YEAR_ZERO = { query: '{ executions(filter: {createdAfter: "0000-01-01T00:00:00Z"}) { edges { cursor } } }' };
/** A document with bytes that are not UTF-8 in it. */
const NOT_UTF8 = Buffer.concat([
  Buffer.from('{"query":"{ executions { edges { cursor } } '),
  Buffer.from([0xff, 0xfe]),
  Buffer.from(' }"}'),
]);

const post = (s: TestServer, path: string, payload: unknown, headers: Record<string, string> = {}) =>
  answer(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.isBuffer(payload) ? new Uint8Array(payload) : JSON.stringify(payload),
  });

const get = (s: TestServer, params: Record<string, string>, headers: Record<string, string> = {}) =>
  answer(`${s.url}/graphql?${new URLSearchParams(params)}`, { headers });

/** The one rule for request errors (GraphQL over HTTP): 200 with application/json and event streams, 400 with graphql-response+json. */
const MEDIA: [accept: string, status: number][] = [
  ['application/json', 200],
  ['application/graphql-response+json', 400],
  ['text/event-stream', 200],
];

describe.each(DB_KINDS)('request errors on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  describe.each(MEDIA)('accepting %s', (accept, status) => {
    it.each([
      ['a document error', DOCUMENT_ERROR, /Cannot query field/],
      ['a variable error', VARIABLE_ERROR, /was not provided/],
      ['a document over the alias limit', OVER_ALIASES, /Aliases limit/],
    ] as const)(
      `answers %s with ${status} and VALIDATION_FAILED on POST /graphql and GET /graphql`,
      async (_n, payload, message) => {
        expectCoded(await post(s, '/graphql', payload, { accept }), status, 'VALIDATION_FAILED', message);
        const params: Record<string, string> = { query: payload.query };
        if ('variables' in payload) params.variables = JSON.stringify(payload.variables);
        expectCoded(await get(s, params, { accept }), status, 'VALIDATION_FAILED', message);
      },
    );
  });

  it.each([
    ['a document error', DOCUMENT_ERROR, /Cannot query field/],
    ['a variable error', VARIABLE_ERROR, /was not provided/],
    ['a document over the alias limit', OVER_ALIASES, /Aliases limit/],
  ] as const)(
    'answers %s in the graphql-sse distinct stream with the real message, never "Unable to detect operation AST"',
    async (_n, payload, message) => {
      const a = await post(s, '/graphql/stream', payload, { accept: 'text/event-stream' });
      expectCoded(a, 200, 'VALIDATION_FAILED', message);
      expect(a.body).toContain('event: next');
      expect(a.body).not.toContain('Unable to detect operation AST');
    },
  );

  it('answers a year-0 createdAfter with VALIDATION_FAILED, not a database error', async () => {
    expectCoded(await post(s, '/graphql', YEAR_ZERO), 200, 'VALIDATION_FAILED', /DateTime/);
    expectCoded(await get(s, YEAR_ZERO), 200, 'VALIDATION_FAILED', /DateTime/);
    const variables = { query: 'query($t: DateTime) { executions(filter: {createdAfter: $t}) { edges { cursor } } }' };
    const a = await post(s, '/graphql', { ...variables, variables: { t: '0001-01-01T00:30:00+01:00' } });
    expectCoded(a, 200, 'VALIDATION_FAILED', /DateTime/);
    expect((await post(s, '/graphql', { ...variables, variables: { t: '0001-01-01T00:00:00Z' } })).body).toContain(
      '"edges":',
    );
  });

  it.each(['application/json', 'text/event-stream'])(
    'answers GET variables that are not JSON with 400 VALIDATION_FAILED (accepting %s)',
    async (accept) => {
      expectCoded(await get(s, { query: '{__typename}', variables: '{' }, { accept }), 400, 'VALIDATION_FAILED');
      expectCoded(await get(s, { query: '{__typename}', extensions: '{' }, { accept }), 400, 'VALIDATION_FAILED');
    },
  );

  it('answers a body that is not UTF-8 with 422 VALIDATION_FAILED on /graphql and graphql-sse', async () => {
    expectCoded(await post(s, '/graphql', NOT_UTF8), 422, 'VALIDATION_FAILED', /UTF-8/);
    expectCoded(await post(s, '/graphql/stream', NOT_UTF8, { accept: 'text/event-stream' }), 422, 'VALIDATION_FAILED');
  });

  describe('graphql-sse single-connection mode', () => {
    let token: string;
    const held = new AbortController();
    beforeAll(async () => {
      token = await (await fetch(`${s.url}/graphql/stream`, { method: 'PUT' })).text();
      await fetch(`${s.url}/graphql/stream`, {
        headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token },
        signal: held.signal,
      });
    });
    afterAll(() => held.abort());
    const operation = (payload: unknown, id: string) =>
      post(
        s,
        '/graphql/stream',
        Buffer.isBuffer(payload) ? payload : { ...(payload as object), extensions: { operationId: id } },
        {
          'x-graphql-event-stream-token': token,
        },
      );

    it('answers a document error and one over the alias limit with 400 VALIDATION_FAILED and the real message', async () => {
      expectCoded(await operation(DOCUMENT_ERROR, 'd'), 400, 'VALIDATION_FAILED', /Cannot query field/);
      expectCoded(await operation(OVER_ALIASES, 'a'), 400, 'VALIDATION_FAILED', /Aliases limit/);
    });

    it('answers a body that is not UTF-8 with 422 VALIDATION_FAILED', async () => {
      expectCoded(await operation(NOT_UTF8, 'u'), 422, 'VALIDATION_FAILED', /UTF-8/);
    });

    it('answers an unknown stream token with a code', async () => {
      const a = await post(
        s,
        '/graphql/stream',
        { ...DOCUMENT_ERROR, extensions: { operationId: 'x' } },
        {
          'x-graphql-event-stream-token': 'no-such-token',
        },
      );
      expectCoded(a, 404, 'NOT_FOUND', /Unknown or expired stream token/);
    });
  });
});

describe('refusals with a body and a code', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s.close());

  it('answers an unsupported content type with 415 and a code', async () => {
    const a = await answer(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expectCoded(a, 415, 'VALIDATION_FAILED', /Unsupported media type/);
    expect(a.type).toContain('application/json');
  });

  it('answers an unacceptable Accept with 406 and a code', async () => {
    expectCoded(
      await post(s, '/graphql', { query: '{ __typename }' }, { accept: 'image/png' }),
      406,
      'VALIDATION_FAILED',
    );
  });

  it('answers headers over the limit with 431 and a code', async () => {
    const url = new URL(s.url);
    const a = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/graphql', headers: { 'x-big': 'a'.repeat(20_000) } },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: text }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(a.status).toBe(431);
    expect(JSON.parse(a.body)).toMatchObject({ error_code: 'VALIDATION_FAILED' });
  });
});
