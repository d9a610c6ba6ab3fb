import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executions } from '../../src/db/schema.js';
import { runCli } from '../support/cli.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const ids = (stdout: string) => (JSON.parse(stdout) as { id: string }[]).map((e) => e.id);
const statusOf = async (s: TestServer, id: string) =>
  ok(await s.gql<{ execution: { status: string } }>(`{ execution(id: "${id}") { status } }`)).execution.status;

describe('vigil CLI: finding runs by tag, parent, workflow prefix and age (bad values exit 3)', () => {
  it.each([
    [['list', '--tag', 'team'], /--tag.*expected key=value/],
    [['list', '--tag', '=data'], /--tag.*expected key=value/],
    [['list', '--since', '2x'], /--since.*expected a duration like 30m, 2h or 7d/],
    [['list', '--since', '0h'], /--since.*expected a duration/],
    [['list', '--since', '-1d'], /--since/],
  ])('refuses %j before asking the server', async (args, message) => {
    const r = await runCli([...args, '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('cannot reach');
  });
});

describe.each(DB_KINDS)('vigil CLI and the run model on %s', (kind) => {
  let s: TestServer;
  let env: Record<string, string>;
  let parent: string;
  let first: string;
  let retry: string;
  let ops: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    env = { VIGIL_URL: s.url };
    const tags = (pairs: Record<string, string>) => Object.entries(pairs).map(([key, value]) => ({ key, value }));
    parent = (await createExecution(s, { workflowId: 'run-nightly', tags: tags({ team: 'data', env: 'prod' }) })).id;
    first = (
      await createExecution(s, { workflowId: 'run-load', parentExecutionId: parent, tags: tags({ team: 'data' }) })
    ).id;
    ok(await record(s, first, [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'FAILED' } }]));
    retry = (await createExecution(s, { workflowId: 'run-load', retryOf: first, tags: tags({ team: 'data' }) })).id;
    ok(await record(s, retry, [{ statusChanged: { to: 'RUNNING' } }]));
    ops = (
      await createExecution(s, { workflowId: 'run-nightly', parentExecutionId: parent, tags: tags({ team: 'ops' }) })
    ).id;
  });
  afterAll(() => s?.close());

  it('lists by tag (every pair must match), by parent and by workflow prefix', async () => {
    const byTag = await runCli(['list', '--tag', 'team=data', '--json'], env);
    expect(byTag.code, byTag.stderr).toBe(0);
    expect(ids(byTag.stdout)).toEqual([retry, first, parent]);

    const both = await runCli(['list', '--tag', 'team=data', '--tag', 'env=prod', '--json'], env);
    expect(ids(both.stdout)).toEqual([parent]);

    const children = await runCli(['list', '--parent', parent, '--workflow-prefix', 'run-lo', '--json'], env);
    expect(ids(children.stdout)).toEqual([retry, first]);

    const table = await runCli(['list', '--parent', parent], env);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+WORKFLOW\s+PROGRESS\s+CREATED\s+DURATION\s+TAGS$/);
    expect(lines.slice(1).map((l) => l.slice(0, 36))).toEqual([ops, retry, first]);
    expect(lines[1]).toMatch(/PENDING\s+run-nightly .*team=ops$/);
  });

  it('lists only what was created within --since', async () => {
    const old = (await createExecution(s, { workflowId: 'run-since' })).id;
    const fresh = (await createExecution(s, { workflowId: 'run-since' })).id;
    await s.database.db
      .update(executions)
      .set({ createdAt: new Date(Date.now() - 3 * 3_600_000) })
      .where(eq(executions.id, old));
    const recent = await runCli(['list', '--workflow', 'run-since', '--since', '2h', '--json'], env);
    expect(recent.code, recent.stderr).toBe(0);
    expect(ids(recent.stdout)).toEqual([fresh]);
    const week = await runCli(['list', '--workflow', 'run-since', '--since', '7d', '--json'], env);
    expect(ids(week.stdout)).toEqual([fresh, old]);
  });

  it('says a tag the server refuses with its code, exit 3', async () => {
    const r = await runCli(['list', '--tag', 'no spaces=1'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/VALIDATION_FAILED: .*filter\.tags\.0\.key/);
  });

  it('gets a parent: its tags, and its children counted by status with the first few', async () => {
    const r = await runCli(['get', parent], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\ntags\s+env=prod team=data\n/);
    expect(r.stdout).toMatch(/\nchildren\s+3 · 1 pending, 1 running, 1 failed\n/);
    expect(r.stdout).toMatch(new RegExp(`\\n  PENDING\\s+${ops}  run-nightly  attempt 1`));
    expect(r.stdout).toMatch(new RegExp(`\\n  RUNNING\\s+${retry}  run-load  attempt 2`));
    expect(r.stdout).toMatch(/\nattempt\s+1 of 1\n/);
    expect(r.stdout).not.toMatch(/\nparent /);
  });

  it('gets a retry: its parent, "attempt 2 of 2 · retry of …", and the first attempt lists its retries', async () => {
    const r = await runCli(['get', retry], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\nparent\\s+${parent}  run-nightly  PENDING\\n`));
    expect(r.stdout).toMatch(new RegExp(`\\nattempt\\s+2 of 2 · retry of ${first}\\n`));
    expect(r.stdout).toMatch(/\nchildren\s+none\n/);

    const older = await runCli(['get', first], env);
    expect(older.stdout).toMatch(/\nattempt\s+1 of 2\n/);
    expect(older.stdout).toMatch(new RegExp(`\\nretries\\s+RUNNING\\s+${retry}  run-load  attempt 2`));

    const json = JSON.parse((await runCli(['get', retry, '--json'], env)).stdout);
    expect(json).toMatchObject({
      id: retry,
      attempt: 2,
      lastAttempt: 2,
      retryOf: first,
      parentExecutionId: parent,
      rootExecutionId: parent,
      parent: { id: parent },
      tags: [{ key: 'team', value: 'data' }],
      childCounts: { total: 0 },
    });
  }, 60_000);

  it('shows at most five children and says how to list the rest', async () => {
    const big = (await createExecution(s, { workflowId: 'run-fan' })).id;
    for (let i = 0; i < 7; i++) await createExecution(s, { workflowId: 'run-fan-child', parentExecutionId: big });
    const r = await runCli(['get', big], env);
    expect(r.stdout).toMatch(/\nchildren\s+7 · 7 pending\n/);
    expect(r.stdout.match(/\n {2}PENDING\s+\S+ {2}run-fan-child/g)).toHaveLength(5);
    expect(r.stdout).toContain(`… 2 more: vigil list --parent ${big}`);
  });

  it('cancels with --cascade: every descendant that had not ended, and says what became of the children', async () => {
    const root = (await createExecution(s, { workflowId: 'run-cascade' })).id;
    const child = (await createExecution(s, { workflowId: 'run-cascade', parentExecutionId: root })).id;
    const grandchild = (await createExecution(s, { workflowId: 'run-cascade', parentExecutionId: child })).id;
    const done = (await createExecution(s, { workflowId: 'run-cascade', parentExecutionId: root })).id;
    ok(await record(s, done, [{ statusChanged: { to: 'COMPLETED' } }]));
    ok(await record(s, grandchild, [{ statusChanged: { to: 'RUNNING' } }]));

    const r = await runCli(['cancel', root, '--cascade'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Execution cancelled (PENDING → CANCELLED)\nchildren: 2 · 1 completed, 1 cancelled\n');
    expect(await Promise.all([root, child, grandchild, done].map((id) => statusOf(s, id)))).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
      'COMPLETED',
    ]);
  });

  it('cancels without --cascade: the children go on', async () => {
    const root = (await createExecution(s, { workflowId: 'run-no-cascade' })).id;
    const child = (await createExecution(s, { workflowId: 'run-no-cascade', parentExecutionId: root })).id;
    const r = await runCli(['cancel', root, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ success: true, currentStatus: 'CANCELLED' });
    expect(await statusOf(s, child)).toBe('PENDING');
  });
});
