import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, record } from '../support/harness.js';
import { type HookedServer, startHookedServer } from '../support/query-hook.js';

const LIST = `query($w: String!, $after: Int, $first: Int) {
  executions(filter: { workflowId: $w }, first: 10) {
    edges { node { id logs(after: $after, first: $first) { sequence text } } }
  }
}`;
interface List {
  executions: { edges: { node: { id: string; logs: { sequence: number; text: string }[] } }[] };
}

describe.each(DB_KINDS)('Execution.logs in a list on %s', (kind) => {
  let s: HookedServer;
  beforeAll(async () => {
    s = await startHookedServer(kind);
  });
  afterAll(() => s.close());

  it('reads the logs of every row in one statement, each row its own page', async () => {
    const w = `wf-logs-${kind}`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { id } = await createExecution(s, { workflowId: w });
      ok(
        await record(s, id, [{ log: { text: `${i}a` } }, { progress: { percentage: 1 } }, { log: { text: `${i}b` } }]),
      );
      ok(await record(s, id, [{ log: { text: `${i}c` } }]));
      ids.push(id);
    }
    const { id: silent } = await createExecution(s, { workflowId: w });
    s.statements.length = 0;
    const list = ok(await s.gql<List>(LIST, { w, after: 1, first: 1 }));
    expect(s.statements.filter((q) => /from "execution_logs"/.test(q))).toHaveLength(1);
    const byId = new Map(list.executions.edges.map((e) => [e.node.id, e.node.logs]));
    ids.forEach((id, i) => {
      expect(byId.get(id)).toEqual([{ sequence: 3, text: `${i}b` }]);
    });
    expect(byId.get(silent)).toEqual([]);
    const all = ok(await s.gql<List>(LIST, { w }));
    expect(all.executions.edges.find((e) => e.node.id === ids[2])?.node.logs.map((l) => l.text)).toEqual([
      '2a',
      '2b',
      '2c',
    ]);
  });

  it('refuses a first over 10000 with VALIDATION_FAILED', async () => {
    expect(codeOf(await s.gql(LIST, { w: `wf-logs-${kind}`, first: 10_001 }))).toBe('VALIDATION_FAILED');
  });
});
