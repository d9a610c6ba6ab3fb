import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, until } from '../support/cli.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const log = (text: string, extra: Record<string, unknown> = {}) => ({ log: { text, ...extra } });
const GREEN = '\u001b[32mok\u001b[0m';

describe('vigil logs and watch --logs', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer('pglite');
    env = { VIGIL_URL: s.url };
  });
  afterAll(() => s?.close());

  async function running(): Promise<string> {
    const { id } = await createExecution(s, { workflowId: 'cli-logs' });
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        log('one\n'),
        { progress: { percentage: 10 } },
        log(`${GREEN} two`, { stream: 'stderr', level: 'WARN' }),
        log('three\nfour\n'),
      ]),
    );
    return id;
  }

  it('prints the texts as written, a newline added where one is missing, and exits 0', async () => {
    const id = await running();
    const r = await runCli(['logs', id], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`one\n${GREEN} two\nthree\nfour\n`);
  });

  it('prints one stream with --stream, and resumes with --after', async () => {
    const id = await running();
    expect((await runCli(['logs', id, '--stream', 'stderr'], env)).stdout).toBe(`${GREEN} two\n`);
    expect((await runCli(['logs', id, '--after', '3'], env)).stdout).toBe(`${GREEN} two\nthree\nfour\n`);
    const json = (await runCli(['logs', id, '--json', '--after', '4'], env)).stdout.trim().split('\n');
    expect(json.map((l) => JSON.parse(l))).toEqual([
      { sequence: 5, stream: 'stdout', level: null, text: 'three\nfour\n' },
    ]);
  });

  it('exits 3 for an unknown execution', async () => {
    const r = await runCli(['logs', '01900000-0000-7000-8000-000000000000'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('not found');
  });

  it.each([
    ['COMPLETED', 0],
    ['FAILED', 1],
  ])('--follow prints new lines as they come and exits with the outcome: %s → %i', async (to, code) => {
    const id = await running();
    const run = startCli(['logs', id, '--follow'], env);
    await until(() => run.stdout().includes('four\n'), run);
    ok(await record(s, id, [log('live\n'), { progress: { percentage: 50 } }]));
    await until(() => run.stdout().includes('live\n'), run);
    ok(await record(s, id, [log('bye'), { statusChanged: { to } }]));
    expect(await run.exited).toBe(code);
    expect(run.stdout()).toBe(`one\n${GREEN} two\nthree\nfour\nlive\nbye\n`);
  });

  it('watch --logs prints log lines as plain lines among the events when piped; watch alone leaves them out', async () => {
    const id = await running();
    const withLogs = startCli(['watch', id, '--from-start', '--logs'], env);
    const without = startCli(['watch', id, '--from-start'], env);
    await until(() => withLogs.stdout().includes('four'), withLogs);
    await until(() => without.stdout().includes('PROGRESS'), without);
    ok(await record(s, id, [log('done here'), { statusChanged: { to: 'COMPLETED' } }]));
    expect(await withLogs.exited).toBe(0);
    expect(await without.exited).toBe(0);
    const lines = withLogs.stdout().trim().split('\n');
    expect(lines.slice(1, 9)).toEqual([
      expect.stringMatching(/#1\s+STATUS_CHANGED\s+PENDING → RUNNING$/),
      'one',
      expect.stringMatching(/#3\s+PROGRESS\s+10%/),
      `${GREEN} two`,
      'three',
      'four',
      'done here',
      expect.stringMatching(/#7\s+STATUS_CHANGED\s+RUNNING → COMPLETED$/),
    ]);
    expect(without.stdout()).not.toContain('four');
    expect(without.stdout()).toMatch(/#3\s+PROGRESS/);
  });
});
