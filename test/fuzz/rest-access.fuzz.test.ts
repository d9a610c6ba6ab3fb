import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restViolations } from '../support/fuzz-contract.js';
import { FUZZ_RUNS, fuzz, fuzzTimeout, seedExecutions } from '../support/fuzz-run.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, revokeKey } from '../support/keys.js';
import { type OpenApiDocument, operationsOf } from '../support/openapi-fuzz.js';

/** Auth on: every kind of caller, from a full key to a revoked, foreign, under-scoped or malformed one. */
async function callers(s: TestServer) {
  const admin = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin']);
  const reader = await makeKey(s, 'acme', ['executions:read']);
  const writer = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
  const both = await makeKey(s, 'acme', ['executions:read', 'executions:write'], ['test', 'live']);
  const foreign = await makeKey(s, 'other-org', ['executions:read', 'executions:write', 'executions:admin']);
  const revoked = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
  await revokeKey(s, revoked.id);
  const access = fc.oneof(
    { weight: 4, arbitrary: fc.constant(admin.headers) },
    fc.constantFrom(reader.headers, writer.headers, foreign.headers, revoked.headers, {}),
    fc
      .constantFrom('test', 'live', 'prod', '', undefined)
      .map((env) => (env === undefined ? both.headers : { ...both.headers, 'x-environment': env })),
    fc.constantFrom(
      { authorization: 'Bearer' },
      { authorization: `bearer ${admin.secret}` },
      { authorization: `Bearer ${admin.secret} extra` },
      { authorization: `Bearer ${admin.secret}x` },
      { authorization: `Bearer ${admin.secret.slice(0, -1)}` },
      { authorization: 'Basic Zm9vOmJhcg==' },
      { authorization: `Token ${admin.secret}` },
    ),
  );
  return { admin: admin.headers, access };
}

describe.each(DB_KINDS)('REST fuzzing with auth on (%s)', (kind) => {
  let s: TestServer;
  let ids: string[];
  let access: fc.Arbitrary<Record<string, string>>;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on' } });
    const made = await callers(s);
    access = made.access;
    ids = await seedExecutions(s, made.admin);
  });
  afterAll(() => s.close());

  it(
    `every operation × every kind of caller, ${FUZZ_RUNS} generated requests: no 5xx, no hang, 401/403/404 and every other error with a contract code`,
    async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApiDocument;
      const operations = operationsOf(doc, fc.constantFrom(...ids), access);
      const outcome = await fuzz(s, fc.oneof(...operations.map((o) => o.request)), restViolations);
      for (const status of ['200', '401', '403'])
        expect(outcome.statuses[status] ?? 0, outcome.report).toBeGreaterThan(0);
      expect(outcome.violations.length, outcome.report).toBe(0);
    },
    fuzzTimeout(),
  );
});
