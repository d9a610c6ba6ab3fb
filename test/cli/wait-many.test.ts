import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, until } from '../support/cli.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ESC = String.fromCharCode(27);
const complete = [{ statusChanged: { to: 'COMPLETED' } }];
const fail = [{ statusChanged: { to: 'FAILED', error: { code: 'BOOM', message: 'it broke' } } }];

describe('vigil wait on several executions', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer('pglite');
    env = { VIGIL_URL: s.url };
  });
  afterAll(() => s?.close());

  const running = async (n: number, input: Record<string, unknown> = {}) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { id } = await createExecution(s, { workflowId: 'cli-many', ...input });
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
      ids.push(id);
    }
    return ids;
  };
  const waiting = () => s.feed.slots.open.waiters > 0;

  it('exits 0 once every id COMPLETED, printing a plain line per change when piped', async () => {
    const ids = await running(3);
    const run = startCli(['wait', ...ids], env);
    await until(() => run.stdout().includes('0/3 done, 0 failed') && waiting(), run);
    for (const id of ids) {
      ok(await record(s, id, complete));
      await sleep(300);
    }
    expect(await run.exited).toBe(0);
    const lines = run.stdout().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      '0/3 done, 0 failed',
      '1/3 done, 0 failed',
      '2/3 done, 0 failed',
      '3/3 done, 0 failed',
    ]);
    for (const id of ids) expect(run.stdout()).toMatch(new RegExp(`COMPLETED\\s+cli-many\\s+${id}`));
    expect(lines.at(-2)).toBe('3/3 done, 0 failed');
  });

  it('exits 1 when any of them failed, after all ended', async () => {
    const ids = await running(2);
    const run = startCli(['wait', ...ids, '--json'], env);
    await until(waiting, run);
    ok(await record(s, ids[0] as string, fail));
    await sleep(500);
    expect(run.child.exitCode).toBeNull(); // ALL: the other one still runs
    ok(await record(s, ids[1] as string, complete));
    expect(await run.exited).toBe(1);
    const out = JSON.parse(run.stdout());
    expect(out).toMatchObject({ completed: true, timedOut: false });
    expect(out.executions.map((e: { status: string }) => e.status)).toEqual(['FAILED', 'COMPLETED']);
  });

  it.each([
    ['COMPLETED', 0, complete],
    ['FAILED', 1, fail],
  ] as const)('--any exits with the first to end: %s → %i', async (_to, code, events) => {
    const ids = await running(3);
    const run = startCli(['wait', ...ids, '--any'], env);
    await until(waiting, run);
    ok(await record(s, ids[1] as string, events));
    expect(await run.exited).toBe(code);
    expect(run.stdout()).toContain('1/3 done');
  });

  it('--tag with --expect counts executions created after it began', async () => {
    const tag = `ci=${randomUUID()}`;
    const tags = [{ key: 'ci', value: tag.slice(3) }];
    const [first] = await running(1, { tags });
    const run = startCli(['wait', '--tag', tag, '--expect', '3'], env);
    await until(waiting, run);
    ok(await record(s, first as string, complete));
    const later = await running(2, { tags });
    ok(await record(s, later[0] as string, complete));
    await sleep(500);
    expect(run.child.exitCode).toBeNull(); // 2 of 3 ended
    ok(await record(s, later[1] as string, complete));
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('3/3 done, 0 failed');
    for (const id of [first, ...later]) expect(run.stdout()).toContain(id);
  });

  it('exits 2 when --timeout passes with none failed, 1 when one had failed', async () => {
    const ids = await running(2);
    const r = await runCli(['wait', ...ids, '--timeout', '1.5'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 not ended after');
    ok(await record(s, ids[0] as string, fail));
    expect((await runCli(['wait', ...ids, '--timeout', '1'], env)).code).toBe(1);
    expect((await runCli(['wait', '--tag', `none=${randomUUID()}`, '--timeout', '1'], env)).code).toBe(2);
  });

  it('exits 3 for an unknown id, 1,001 ids, or ids with --tag, and holds no wait', async () => {
    const [id] = await running(1);
    const unknown = await runCli(['wait', id as string, '01a20000-0000-7000-8000-000000000000'], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('01a20000-0000-7000-8000-000000000000 not found');
    const many = await runCli(['wait', ...Array.from({ length: 1001 }, () => randomUUID())], env);
    expect(many.code).toBe(3);
    expect(many.stderr).toContain('ids');
    expect((await runCli(['wait', id as string, id as string], env)).code).toBe(3);
    expect((await runCli(['wait', id as string, '--tag', 'a=b'], env)).code).toBe(3);
    expect((await runCli(['wait'], env)).code).toBe(3);
    expect(s.feed.slots.open.waiters).toBe(0);
  });

  it('redraws one live summary line in place on a terminal', async () => {
    const ids = await running(3);
    // util-linux `script` runs the built CLI on a pseudo-terminal and copies everything it writes, byte for byte
    const child = spawn('script', ['-qfec', `${process.execPath} bin/vigil.js wait ${ids.join(' ')}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', VIGIL_URL: s.url },
    });
    let raw = '';
    child.stdout.on('data', (d) => {
      raw += d;
    });
    const exited = new Promise<number | null>((r) => child.once('close', r));
    const run = { child, stdout: () => raw, stderr: () => '', exited };
    await until(() => raw.includes('0/3 done') && waiting(), run);
    ok(await record(s, ids[0] as string, complete));
    await until(() => raw.includes('1/3 done'), run);
    ok(await record(s, ids[1] as string, fail));
    await until(() => raw.includes('2/3 done, 1 failed'), run);
    ok(await record(s, ids[2] as string, complete));
    expect(await exited).toBe(1);
    // each redraw goes back to the start of the line and erases what is left of the old text: no new lines
    expect(raw).toContain(`\r1/3 done, 0 failed${ESC}[K`);
    expect(raw).toContain(`\r2/3 done, 1 failed${ESC}[K`);
    expect(raw).not.toMatch(/done, \d failed\r?\n\d\/3 done/); // never a second summary line under the first
    const text = stripVTControlCharacters(raw);
    expect(text).toMatch(/FAILED\s+cli-many/);
    expect(text).toMatch(/3\/3 done, 1 failed/);
  }, 60_000);
});
