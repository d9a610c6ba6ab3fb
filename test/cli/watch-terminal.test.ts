import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/cli.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ESC = String.fromCharCode(27);
/** An ANSI control sequence: ESC [ then `rest` (a regular expression source). */
const csi = (rest: string) => new RegExp(`${ESC}\\[${rest}`);

describe('vigil watch on a terminal', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s?.close());

  it('redraws its progress bar in place, never erasing it before drawing it again', async () => {
    const { id } = await createExecution(s, { workflowId: 'cli-bar' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    // util-linux `script` runs the built CLI on a pseudo-terminal and copies everything it writes, byte for byte
    const child = spawn('script', ['-qfec', `${process.execPath} bin/vigil.js watch ${id}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', VIGIL_URL: s.url },
    });
    let raw = '';
    child.stdout.on('data', (d) => {
      raw += d;
    });
    const exited = new Promise<number | null>((r) => child.once('close', r));
    const run = { child, stdout: () => raw, stderr: () => '', exited };
    await until(() => raw.includes('watching'), run);
    await sleep(800);
    for (const percentage of [10, 35, 60, 85]) {
      ok(await record(s, id, [{ progress: { step: 'load', percentage } }]));
    }
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
    expect(await exited).toBe(0);

    const text = stripVTControlCharacters(raw);
    expect(text).toMatch(/cli-bar .*85% RUNNING load/); // the bar, drawn
    expect(text).toMatch(/#6\s+STATUS_CHANGED\s+RUNNING → COMPLETED/);
    expect(text).toMatch(/COMPLETED\s+cli-bar/);
    // No multi-line redraw (cursor up) and no whole-line erase: the bar lives on one line, drawn over itself.
    expect(raw).not.toMatch(csi('\\d*A'));
    expect(raw).not.toMatch(csi('2K'));
    // Erasing at the start of the line (before any text) happens once: when the bar is removed at the end.
    const lineStart = new RegExp(`(\r|${ESC}\\[1?G)${ESC}\\[0?K`, 'g');
    expect(raw.match(lineStart) ?? []).toHaveLength(1);
  }, 60_000);

  it('with --logs, prints log lines above the bar, which stays on the last line', async () => {
    const { id } = await createExecution(s, { workflowId: 'cli-logs-bar' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const child = spawn('script', ['-qfec', `${process.execPath} bin/vigil.js watch --logs ${id}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', VIGIL_URL: s.url },
    });
    let raw = '';
    child.stdout.on('data', (d) => {
      raw += d;
    });
    const exited = new Promise<number | null>((r) => child.once('close', r));
    const run = { child, stdout: () => raw, stderr: () => '', exited };
    await until(() => raw.includes('watching'), run);
    await sleep(800);
    ok(
      await record(s, id, [
        { progress: { step: 'load', percentage: 40 } },
        { log: { text: `${ESC}[31mfirst red${ESC}[0m\nsecond\n`, stream: 'stderr' } },
      ]),
    );
    await until(() => stripVTControlCharacters(raw).includes('second'), run);
    ok(await record(s, id, [{ log: { text: 'third' } }, { statusChanged: { to: 'COMPLETED' } }]));
    expect(await exited).toBe(0);

    // Each log line is drawn where the bar was, the bar is drawn again below it in the same write.
    // (The terminal turns each \n into \r\n; a lone \r starts a redraw.)
    const frames = raw
      .replaceAll('\r\n', '\n')
      .split('\r')
      .map((f) => stripVTControlCharacters(f));
    const withLines = frames.filter((f) => f.includes('first red'));
    expect(withLines.length).toBeGreaterThan(0);
    expect(withLines[0]).toMatch(/^first red\nsecond\ncli-logs-bar .*40% RUNNING load/);
    expect(frames.some((f) => /^third\ncli-logs-bar /.test(f))).toBe(true);
    // The colour of a line is reset before the bar is drawn, so it does not run into it.
    expect(raw).toMatch(new RegExp(`second${ESC}\\[0m`));
  }, 60_000);
});
