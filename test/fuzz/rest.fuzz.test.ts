import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restViolations } from '../support/fuzz-contract.js';
import { FUZZ_RUNS, fuzz, fuzzTimeout, seedExecutions } from '../support/fuzz-run.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { type OpenApiDocument, operationsOf } from '../support/openapi-fuzz.js';

describe.each(DB_KINDS)('REST fuzzing from /openapi.json (%s)', (kind) => {
  let s: TestServer;
  let ids: string[];
  beforeAll(async () => {
    s = await startTestServer(kind);
    ids = await seedExecutions(s);
  });
  afterAll(() => s.close());

  it(
    `every operation, ${FUZZ_RUNS} generated requests: no 5xx, no hang, every error is {detail, error_code, correlation_id, timestamp} with a contract code`,
    async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApiDocument;
      const operations = operationsOf(doc, fc.constantFrom(...ids));
      expect(operations.length).toBeGreaterThanOrEqual(10);
      const outcome = await fuzz(s, fc.oneof(...operations.map((o) => o.request)), restViolations);
      // The run reached the handlers, not only the validators: some requests succeeded on real rows.
      expect(
        Object.keys(outcome.statuses).some((st) => st.startsWith('2')),
        outcome.report,
      ).toBe(true);
      expect(outcome.violations.length, outcome.report).toBe(0);
    },
    fuzzTimeout(),
  );
});
