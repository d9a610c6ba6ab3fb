import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, newDatabaseUrl, ok, record, startTestServer, type TestServer } from '../support/harness.js';

/**
 * The compiled fast path must answer exactly as yoga does. Two servers on one database, one with the fast path and
 * one without, get the same requests; status, content type and body must match (correlation ids and wait
 * durations aside).
 */
describe('the fast GraphQL path answers as yoga does', () => {
  let fast: TestServer;
  let stock: TestServer;
  let id: string;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    fast = await startTestServer('postgres', { databaseUrl: url });
    stock = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_FAST_GRAPHQL: 'off' } });
    id = (await createExecution(fast, { workflowId: 'diff', inputs: { a: [1, 2] } })).id;
    ok(await record(fast, id, [{ statusChanged: { to: 'RUNNING' } }, { step: { stepId: 's', status: 'RUNNING' } }]));
  });
  afterAll(async () => {
    await fast.close();
    await stock.close();
  });

  const ask = async (
    s: TestServer,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; type: string | null; body: unknown }> => {
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
  };

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
