import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCounts } from '../support/db-state.js';
import { createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';

interface Case {
  name: string;
  send: (s: TestServer, id: string) => Promise<{ status: number; body: string }>;
  status: number;
  code?: string;
}

const post = (s: TestServer, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(
    async (r) => ({ status: r.status, body: await r.text() }),
  );

const gql = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

/** A body streamed without Content-Length (chunked), in pieces of at most 64 KiB. */
const chunked = (s: TestServer, path: string, body: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(`${s.url}${path}`);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer 413 and close while the rest is still being sent.
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
    req.end();
  });

const CASES: Case[] = [
  {
    name: 'a body over the 1 MiB limit',
    send: (s) =>
      post(
        s,
        '/graphql',
        gql('mutation($i: JSON) { createExecution(input: {workflowId: "big", inputs: $i}) { id } }', {
          i: 'x'.repeat(1.2 * 1024 * 1024),
        }),
      ),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a chunked body of unknown length over the 1 MiB limit',
    send: (s) =>
      chunked(
        s,
        '/graphql',
        gql('mutation($i: JSON) { createExecution(input: {workflowId: "big"}) { id } }', {
          i: 'x'.repeat(1.2 * 1024 ** 2),
        }),
      ),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'malformed JSON', send: (s) => post(s, '/graphql', '{"query": "mutation { createEx'), status: 400 },
  {
    name: 'a variable of the wrong type',
    send: (s) =>
      post(
        s,
        '/graphql',
        gql('mutation($i: CreateExecutionInput!) { createExecution(input: $i) { id } }', { i: { workflowId: 5 } }),
      ),
    // A request error, as a document error: 200 with application/json (GraphQL over HTTP; 400 with graphql-response+json).
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a wrong content type',
    send: (s) =>
      post(s, '/graphql', 'mutation { createExecution(input: {workflowId: "t"}) { id } }', {
        'content-type': 'text/plain',
      }),
    status: 415,
  },
  {
    name: 'a batch of 1001 events',
    send: (s, id) =>
      post(
        s,
        '/graphql',
        gql(
          'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { events { sequence } } }',
          {
            id,
            e: Array.from({ length: 1001 }, () => ({ progress: { percentage: 1 } })),
          },
        ),
      ),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a JSON field over 64 KiB',
    send: (s) =>
      post(
        s,
        '/graphql',
        gql('mutation($m: JSON) { createExecution(input: {workflowId: "m", metadata: $m}) { id } }', {
          m: { a: 'y'.repeat(70_000) },
        }),
      ),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '31 aliased mutations (over the alias limit)',
    send: (s) =>
      post(
        s,
        '/graphql',
        gql(
          `mutation { ${Array.from({ length: 31 }, (_, i) => `m${i}: createExecution(input: {workflowId: "alias"}) { id }`).join(' ')} }`,
        ),
      ),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a document 25 deep',
    send: (s) => {
      let deep = 'name';
      for (let i = 0; i < 20; i++) deep = `ofType { ${deep} }`;
      const query = `mutation M { createExecution(input: {workflowId: "deep"}) { id } } query Q { __schema { types { fields { type { ${deep} } } } } }`;
      return post(s, '/graphql', JSON.stringify({ query, operationName: 'M' }));
    },
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'over 5,000 tokens',
    send: (s) => post(s, '/graphql', gql(`{ ${'viewer { organizationId } '.repeat(1300)} }`)),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'over 50 directives',
    send: (s) => post(s, '/graphql', gql(`{ viewer { organizationId ${'@skip(if: false) '.repeat(60)} } }`)),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a batched (array) request',
    send: (s) =>
      post(
        s,
        '/graphql',
        JSON.stringify([
          { query: 'mutation { createExecution(input: {workflowId: "b1"}) { id } }' },
          { query: '{ viewer { organizationId } }' },
        ]),
      ),
    status: 400,
  },
  {
    name: 'a status change to a non-enum value',
    send: (s, id) =>
      post(
        s,
        '/graphql',
        gql('mutation($id: ID!) { updateExecutionStatus(id: $id, status: EXPLODED) { success } }', { id }),
      ),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an invalid DateTime',
    send: (s, id) =>
      post(
        s,
        '/graphql',
        gql(
          'mutation($id: ID!) { recordExecutionEvents(executionId: $id, events: [{progress: {percentage: 1}, occurredAt: "yesterday"}]) { events { sequence } } }',
          { id },
        ),
      ),
    status: 200,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a non-UUID id to a write',
    send: (s) =>
      post(
        s,
        '/graphql',
        gql(
          'mutation { recordExecutionEvents(executionId: "../../etc", events: [{progress: {percentage: 1}}]) { events { sequence } } }',
        ),
      ),
    status: 200,
    code: 'EXECUTION_NOT_FOUND',
  },
];

describe.each(DB_KINDS)('hostile GraphQL requests on %s', (kind) => {
  let s: TestServer;
  let id: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    id = (await createExecution(s, { workflowId: 'target' })).id;
  });
  afterAll(() => s.close());

  it.each(CASES)('$name → $status $code, nothing written, server still answers', async (c) => {
    const before = await rowCounts(s);
    const res = await c.send(s, id);
    expect(res.status).toBe(c.status);
    if (c.code) expect(res.body).toContain(`"${c.code}"`);
    expect(await rowCounts(s)).toEqual(before);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('reads a chunked body of unknown length within the limit, on GraphQL and REST alike', async () => {
    const graphql = await chunked(
      s,
      '/graphql',
      gql('mutation { createExecution(input: {workflowId: "chunked"}) { workflowId } }'),
    );
    expect(graphql.status, graphql.body).toBe(200);
    expect(JSON.parse(graphql.body)).toEqual({ data: { createExecution: { workflowId: 'chunked' } } });
    const rest = await chunked(s, '/api/v1/executions', JSON.stringify({ workflowId: 'chunked-rest' }));
    expect(rest.status, rest.body).toBe(201);
    expect(JSON.parse(rest.body)).toMatchObject({ workflowId: 'chunked-rest' });
    const stream = await chunked(
      s,
      '/graphql',
      gql(`subscription { executionEvents(executionId: "${id}", timeout: 1) { sequence } }`),
      { accept: 'text/event-stream' },
    );
    expect(stream.status).toBe(200);
    expect(stream.body).toContain('event: complete');
    const tooLarge = await chunked(
      s,
      '/api/v1/executions',
      JSON.stringify({ workflowId: 'x', m: 'y'.repeat(2 ** 21) }),
    );
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body)).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE' });
  });

  it('forgets a chunked body whose client leaves before its end, and goes on serving', async () => {
    const url = new URL(`${s.url}/api/v1/executions`);
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' });
      req.on('error', () => resolve());
      req.write('{"workflowId": "half');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    const before = await rowCounts(s);
    const after = await chunked(s, '/api/v1/executions', JSON.stringify({ workflowId: 'after-half' }));
    expect(after.status).toBe(201);
    expect((await rowCounts(s)).executions).toBe((before.executions ?? 0) + 1);
  });

  it('still serves GraphiQL’s introspection query within the limits', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const res = await s.gql(getIntrospectionQuery());
    expect(res.errors).toBeUndefined();
    expect(ok(res)).toHaveProperty('__schema');
  });
});
