import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';

describe('GraphQL over HTTP audit (graphql-http)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s.close());

  it('passes every MUST, SHOULD and MAY of the GraphQL over HTTP spec', async () => {
    const results = await auditServer({ url: `${s.url}/graphql` });
    const notOk = results.filter((r) => r.status !== 'ok');
    expect(notOk.map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`)).toEqual([]);
    const must = results.filter((r) => r.name.startsWith('MUST'));
    const should = results.filter((r) => r.name.startsWith('SHOULD'));
    expect(must.length).toBeGreaterThanOrEqual(13);
    expect(should.length).toBeGreaterThanOrEqual(20);
  });
});
