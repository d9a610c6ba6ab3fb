import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExecution,
  DB_KINDS,
  type DbKind,
  ok,
  record,
  type StartOptions,
  startTestServer,
  type TestServer,
} from '../support/harness.js';
import { makeKey, type TestKey } from '../support/keys.js';

/**
 * Two servers on one database, one with the lean paths (`VIGIL_FAST_GRAPHQL=on`) and one without: on PostgreSQL both
 * open it, on PGlite the second borrows the first's (and leaves closing it to the first).
 */
async function startPair(kind: DbKind, options: StartOptions = {}): Promise<[fast: TestServer, stock: TestServer]> {
  const env = options.env ?? {};
  const fast = await startTestServer(kind, { ...options, env: { ...env, VIGIL_FAST_GRAPHQL: 'on' } });
  const shared =
    kind === 'postgres' ? { databaseUrl: fast.databaseUrl } : { database: { ...fast.database, close: async () => {} } };
  const stock = await startTestServer(kind, { ...options, ...shared, env: { ...env, VIGIL_FAST_GRAPHQL: 'off' } });
  return [fast, stock];
}

/** Status, content type and parsed body, with what differs between any two answers (ids of requests) normalized. */
async function ask(
  s: TestServer,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = (await res.text())
    .replace(/"correlationId":"[^"]+"/g, '"correlationId":"…"')
    .replace(/"durationMs":[\d.]+/g, '"durationMs":0');
  // Key order inside objects is not part of JSON's meaning; compare parsed bodies.
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (text ? JSON.parse(text) : text) as unknown,
  };
}

/**
 * The compiled fast path must answer exactly as yoga does: the same request to both servers gives the same status,
 * content type and body (correlation ids and wait durations aside), on both databases.
 */
describe.each(DB_KINDS)('the fast GraphQL path answers as yoga does, on %s', (kind) => {
  let fast: TestServer;
  let stock: TestServer;
  let id: string;
  let done: string;
  beforeAll(async () => {
    [fast, stock] = await startPair(kind);
    id = (await createExecution(fast, { workflowId: 'diff', inputs: { a: [1, 2] } })).id;
    ok(await record(fast, id, [{ statusChanged: { to: 'RUNNING' } }, { step: { stepId: 's', status: 'RUNNING' } }]));
    done = (await createExecution(fast, { workflowId: 'diff-done' })).id;
    ok(await record(fast, done, [{ statusChanged: { to: 'COMPLETED' } }]));
  });
  afterAll(async () => {
    await stock.close();
    await fast.close();
  });

  const CASES: [string, () => unknown][] = [
    [
      'a query',
      () => ({
        query:
          'query($id: ID!) { execution(id: $id) { id status workflowId inputs steps { id status } trigger { type } createdAt } }',
        variables: { id },
      }),
    ],
    [
      'a list with a filter',
      () => ({
        query: '{ executions(filter: {workflowId: "diff"}) { edges { node { id } } pageInfo { hasNextPage } } }',
      }),
    ],
    [
      'events through an interface',
      () => ({
        query: `{ execution(id: "${id}") { events { sequence type ... on StatusChangedEvent { from to } ... on StepEvent { stepId } } } }`,
      }),
    ],
    [
      'a named operation among several',
      () => ({ query: 'query A { viewer { organizationId } } query B { viewer { scopes } }', operationName: 'B' }),
    ],
    [
      'a resolver error',
      () => ({ query: '{ waitForExecution(id: "01900000-0000-7000-8000-000000000000", timeout: 1) { completed } }' }),
    ],
    ['a validation error from the domain', () => ({ query: '{ executions(first: 1000) { edges { cursor } } }' })],
    ['an unknown field', () => ({ query: '{ nope }' })],
    ['a syntax error', () => ({ query: '{ viewer {' })],
    [
      'a variable of the wrong type',
      () => ({ query: 'query($n: Int) { executions(first: $n) { edges { cursor } } }', variables: { n: 'ten' } }),
    ],
    ['a missing variable', () => ({ query: 'query($id: ID!) { execution(id: $id) { id } }' })],
    ['a missing query', () => ({ variables: {} })],
    [
      'a completed wait',
      () => ({ query: `{ waitForExecution(id: "${id}", timeout: 1) { completed message execution { status } } }` }),
    ],
    [
      'an over-limit document',
      () => ({ query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }` }),
    ],
    [
      'a subscription over plain JSON',
      () => ({ query: `subscription { executionEvents(executionId: "${id}") { sequence } }` }),
    ],
    // Mutations: the same idempotency key makes the second server's create a replay of the first's.
    [
      'a create with an idempotency key',
      () => ({
        query: `mutation($input: CreateExecutionInput!) { createExecution(input: $input) { id status workflowId createdAt } }`,
        variables: { input: { workflowId: 'diff-create', idempotencyKey: `k-${id}` } },
      }),
    ],
    [
      'a create the domain refuses',
      () => ({ query: 'mutation { createExecution(input: {workflowId: "", timeoutSeconds: 0}) { id } }' }),
    ],
    [
      'a heartbeat',
      () => ({
        query: `mutation { recordExecutionEvents(executionId: "${id}", events: []) { events { sequence } execution { id status lastSequence } } }`,
      }),
    ],
    [
      'a batch for an ended execution',
      () => ({
        query: `mutation { recordExecutionEvents(executionId: "${done}", events: [{progress: {percentage: 5}}]) { events { sequence } } }`,
      }),
    ],
    [
      'a status change the state machine refuses',
      () => ({
        query: `mutation { updateExecutionStatus(id: "${done}", status: CANCELLED) { success currentStatus } }`,
      }),
    ],
    [
      'a write to an execution that does not exist',
      () => ({
        query:
          'mutation { updateExecutionStatus(id: "01900000-0000-7000-8000-000000000000", status: CANCELLED) { success } }',
      }),
    ],
    // Bad variables.
    [
      'a mutation input variable of the wrong shape',
      () => ({
        query: 'mutation($input: CreateExecutionInput!) { createExecution(input: $input) { id } }',
        variables: { input: { workflowId: 5, nope: true } },
      }),
    ],
    [
      'variables that are not an object',
      () => ({ query: 'query($id: ID!) { execution(id: $id) { id } }', variables: [id] }),
    ],
    [
      'a null for a non-null variable',
      () => ({ query: 'query($id: ID!) { execution(id: $id) { id } }', variables: { id: null } }),
    ],
    [
      'an enum variable out of range',
      () => ({
        query:
          'mutation($id: ID!, $s: ExecutionStatusTarget!) { updateExecutionStatus(id: $id, status: $s) { success } }',
        variables: { id, s: 'EXPLODED' },
      }),
    ],
  ];

  for (const accept of ['application/json', 'application/graphql-response+json', '*/*']) {
    // With */*, yoga answers a subscription with an event stream: checked on its own below.
    const cases = accept === '*/*' ? CASES.filter(([name]) => !name.startsWith('a subscription')) : CASES;
    it.each(cases)(`%s (Accept: ${accept})`, async (_name, body) => {
      const text = JSON.stringify(body());
      const [a, b] = [await ask(fast, text, { accept }), await ask(stock, text, { accept })];
      expect(a).toEqual(b);
    });
  }

  it('hands a subscription to yoga, which streams it', async () => {
    const controller = new AbortController();
    const res = await fetch(`${fast.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: '*/*' },
      body: JSON.stringify({
        query: `subscription { executionEvents(executionId: "${id}", timeout: 5) { sequence } }`,
      }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (reader && !seen.includes('"sequence":2')) seen += (await reader.read()).value ?? '';
    expect(seen).toContain('"sequence":1');
    controller.abort();
  });

  it('answers malformed JSON as yoga does', async () => {
    expect(await ask(fast, '{"query": ', {})).toEqual(await ask(stock, '{"query": ', {}));
  });
});

/** With auth on: refusals of the request (401, 403, 422 on X-Environment, 429) and of a scope, as yoga gives them. */
describe.each(DB_KINDS)('the fast GraphQL path refuses as yoga does, with auth on, on %s', (kind) => {
  const BURST = 20;
  let fast: TestServer;
  let stock: TestServer;
  let writer: TestKey;
  let reader: TestKey;
  let both: TestKey;
  beforeAll(async () => {
    [fast, stock] = await startPair(kind, {
      env: { VIGIL_AUTH: 'on', VIGIL_RATE_LIMIT: '0.01', VIGIL_RATE_BURST: String(BURST) },
    });
    writer = await makeKey(fast, 'acme', ['executions:read', 'executions:write']);
    reader = await makeKey(fast, 'acme', ['executions:read']);
    both = await makeKey(fast, 'acme', ['executions:read'], ['test', 'live']);
  });
  afterAll(async () => {
    await stock.close();
    await fast.close();
  });

  const QUERY = JSON.stringify({ query: '{ viewer { organizationId scopes } }' });
  const MUTATION = JSON.stringify({
    query: 'mutation { createExecution(input: {workflowId: "auth-diff"}) { workflowId status } }',
  });
  /** Each with the status (under Accept: application/json) and code both must answer. */
  const CASES: [string, () => Record<string, string>, string, number, string | null][] = [
    ['no key, a query', () => ({}), QUERY, 401, 'UNAUTHORIZED'],
    ['no key, a mutation', () => ({}), MUTATION, 401, 'UNAUTHORIZED'],
    [
      'an unknown key',
      () => ({ authorization: 'Bearer vigil_notarealkeynotarealkeynotarealkey00' }),
      MUTATION,
      401,
      'UNAUTHORIZED',
    ],
    ['a malformed Authorization', () => ({ authorization: 'Basic abc' }), QUERY, 401, 'UNAUTHORIZED'],
    [
      'an environment the key may not use',
      () => ({ ...writer.headers, 'x-environment': 'live' }),
      MUTATION,
      403,
      'FORBIDDEN',
    ],
    ['no X-Environment for a key with both', () => both.headers, QUERY, 422, 'VALIDATION_FAILED'],
    ['a mutation without the write scope', () => reader.headers, MUTATION, 200, 'FORBIDDEN'],
    ['a query within its scope', () => reader.headers, QUERY, 200, null],
    [
      'bad variables with a key',
      () => writer.headers,
      JSON.stringify({ query: 'query($n: Int) { executions(first: $n) { edges { cursor } } }', variables: { n: 'x' } }),
      200,
      'VALIDATION_FAILED',
    ],
  ];

  for (const accept of ['application/json', 'application/graphql-response+json']) {
    it.each(CASES)(`%s (Accept: ${accept})`, async (_name, headersOf, body, status, code) => {
      const headers = { accept, ...headersOf() };
      const [a, b] = [await ask(fast, body, headers), await ask(stock, body, headers)];
      expect(a).toEqual(b);
      if (accept === 'application/json') expect(a.status).toBe(status);
      const codes = (a.body as { errors?: { extensions?: { code?: string } }[] }).errors?.map(
        (e) => e.extensions?.code,
      );
      expect(codes?.[0] ?? null).toBe(code);
    });
  }

  it.each(['application/json', 'application/graphql-response+json'])(
    'answers 429 RATE_LIMITED past the key’s budget as yoga does (Accept: %s)',
    async (accept) => {
      const limited = await makeKey(fast, 'acme', ['executions:read']);
      const headers = { accept, ...limited.headers };
      for (let i = 0; i < BURST; i++) {
        expect((await ask(fast, QUERY, headers)).status).toBe(200);
        expect((await ask(stock, QUERY, headers)).status).toBe(200);
      }
      const [a, b] = [await ask(fast, QUERY, headers), await ask(stock, QUERY, headers)];
      expect(a.status).toBe(429);
      expect(a).toEqual(b);
    },
  );
});
