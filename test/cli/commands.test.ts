import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createExecution, ok, record, startTestServer, type TestServer, UPDATE_STATUS } from '../support/harness.js';
import { freePort } from '../support/postgres.js';
import { TestKeys } from '../support/test-keys.js';

const status = async (s: TestServer, id: string, headers?: Record<string, string>) =>
  ok(await s.gql<{ execution: { status: string } }>(`{ execution(id: "${id}") { status } }`, {}, headers)).execution
    .status;

describe('vigil CLI: help and usage', () => {
  it.each(['get', 'list', 'cancel', 'wait', 'watch'])(
    'documents `%s --help` with the connection options',
    async (cmd) => {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      for (const opt of ['--url', '--key', '--env', '--json', 'VIGIL_URL', 'VIGIL_API_KEY'])
        expect(r.stdout).toContain(opt);
      if (cmd === 'wait' || cmd === 'watch') {
        expect(r.stdout).toContain('--timeout');
        expect(r.stdout).toMatch(/0 +the execution COMPLETED/);
        expect(r.stdout).toMatch(/2 +--timeout passed/);
      }
    },
  );

  it('lists every command in the top-level help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['get', 'list', 'cancel', 'wait', 'watch']) expect(r.stdout).toMatch(new RegExp(`\\n  ${cmd} `));
  });

  it.each([
    [['wait'], /give an execution id \(or several\), or --tag/],
    [['wait', 'x', '--timeout', 'soon'], /--timeout/],
    [['list', '--status', 'DONE'], /expected one or more of/],
    [['get', 'x', '--env', 'prod'], /Allowed choices are test, live/],
    [['get', 'x', '--url', 'localhost'], /expected an http\(s\) URL/],
    [['frobnicate'], /unknown command/],
  ])('exits 3 with a message on bad usage: %j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
  });

  it('exits 3 and says so when the server cannot be reached', async () => {
    const port = await freePort();
    const r = await runCli(['list', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach Vigil at http://127.0.0.1:${port}`);
  });
});

describe('vigil CLI: get, list, cancel', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer('pglite');
    env = { VIGIL_URL: s.url };
  });
  afterAll(() => s?.close());

  it('gets an execution as text and as JSON, and exits 3 for an unknown id', async () => {
    const { id } = await createExecution(s, { workflowId: 'cli-get', workflowVersion: '3' });
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'extract', name: 'Extract', status: 'COMPLETED' } },
        { message: { messageId: 'm1', status: 'COMPLETED' } },
        { progress: { step: 'extract', percentage: 30 } },
      ]),
    );
    const text = await runCli(['get', id], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/status\s+RUNNING/);
    expect(text.stdout).toMatch(/workflow\s+cli-get v3/);
    expect(text.stdout).toMatch(/progress\s+30% extract/);
    expect(text.stdout).toContain('1 total, 1 completed, 0 failed, 0 in progress (success 100.0%)');
    expect(text.stdout).toMatch(/COMPLETED\s+Extract/);

    const json = await runCli(['get', id, '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, status: 'RUNNING', workflowId: 'cli-get', lastSequence: 4 });

    const missing = await runCli(['get', '01a20000-0000-7000-8000-000000000000'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('execution 01a20000-0000-7000-8000-000000000000 not found');
  });

  it("prints the error's details, and the steps its end closed as CANCELLED", async () => {
    const { id } = await createExecution(s, { workflowId: 'cli-details' });
    const details = { table: 'orders', rows: [17, 42], hint: 'the upstream export was truncated at 2 GiB' };
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'load', name: 'Load', status: 'RUNNING' } },
        { statusChanged: { to: 'FAILED', error: { code: 'LOAD_FAILED', message: 'bad rows', details } } },
      ]),
    );
    const text = await runCli(['get', id], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/error\s+LOAD_FAILED: bad rows/);
    // long: indented JSON under the value column, one key a line
    expect(text.stdout).toMatch(
      /details\s+\{\n {14}"hint": "the upstream export was truncated at 2 GiB",\n {14}"rows": \[/,
    );
    expect(text.stdout).toContain('"table": "orders"');
    expect(text.stdout).toMatch(/CANCELLED\s+Load/);

    const short = await createExecution(s, { workflowId: 'cli-details' });
    ok(await s.gql(UPDATE_STATUS, { id: short.id, status: 'FAILED', errorInfo: { ticket: 42 } }));
    const inline = await runCli(['get', short.id], env);
    expect(inline.stdout).toMatch(/details\s+\{"ticket":42\}/);
  }, 60_000); // two CLI processes

  it('lists executions newest first, filtered by status', async () => {
    const a = await createExecution(s, { workflowId: 'cli-list' });
    const b = await createExecution(s, { workflowId: 'cli-list' });
    ok(await record(s, b.id, [{ statusChanged: { to: 'RUNNING' } }]));
    const all = await runCli(['list', '--workflow', 'cli-list', '--json'], env);
    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as { id: string }[]).map((e) => e.id)).toEqual([b.id, a.id]);

    const running = await runCli(['list', '--workflow', 'cli-list', '--status', 'running'], env);
    expect(running.code).toBe(0);
    const lines = running.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+WORKFLOW\s+PROGRESS\s+CREATED\s+DURATION$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toContain(b.id);

    const limited = await runCli(['list', '--limit', '1', '--json'], env);
    expect(JSON.parse(limited.stdout)).toHaveLength(1);
  });

  it('cancels: 0 when cancelled (again: still 0), 1 when the execution had already ended otherwise', async () => {
    const { id } = await createExecution(s, { workflowId: 'cli-cancel' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const first = await runCli(['cancel', id], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('RUNNING → CANCELLED');
    expect(await status(s, id)).toBe('CANCELLED');
    const again = await runCli(['cancel', id, '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ success: true, previousStatus: 'CANCELLED' });

    const done = await createExecution(s, { workflowId: 'cli-cancel' });
    ok(await record(s, done.id, [{ statusChanged: { to: 'COMPLETED' } }]));
    const refused = await runCli(['cancel', done.id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not cancelled');
    expect(await status(s, done.id)).toBe('COMPLETED');
  });
});

describe('vigil CLI with auth on', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite', { auth: new TestKeys() });
  });
  afterAll(() => s?.close());

  it('exits 3 without a key, or with one the server does not accept, and says what to do', async () => {
    const none = await runCli(['list', '--url', s.url]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('needs an API key (--key or VIGIL_API_KEY)');
    const bad = await runCli(['wait', 'x', '--url', s.url, '--key', 'nope']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('the API key was not accepted');
  });

  it('uses the key from VIGIL_API_KEY or --key, and exits 3 when its scopes do not allow the command', async () => {
    const admin = TestKeys.headers('admin');
    const { id } = await createExecution(s, { workflowId: 'cli-auth' }, admin);
    const listed = await runCli(['list', '--json'], { VIGIL_URL: s.url, VIGIL_API_KEY: TestKeys.secret('reader') });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id })]);

    const forbidden = await runCli(['cancel', id, '--url', s.url, '--key', TestKeys.secret('reader')]);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('forbidden: This API key lacks the executions:write scope');
    expect(await status(s, id, admin)).toBe('PENDING');

    const cancelled = await runCli(['cancel', id, '--url', s.url, '--key', TestKeys.secret('writer'), '--env', 'test']);
    expect(cancelled.code).toBe(0);
    expect(await status(s, id, admin)).toBe('CANCELLED');
  });
});
