import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newDatabaseUrl } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The built server (dist/server/main.js, as `npm start` runs it), with stdout on a terminal (util-linux `script` gives it a
 * pseudo-terminal) or on a pipe. Resolves with what it printed once `ready` matches, then stops it.
 */
async function startAndRead(env: Record<string, string>, terminal: boolean, ready: RegExp): Promise<string> {
  const command = `${process.execPath} dist/server/main.js`;
  const child: ChildProcess = terminal
    ? spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: childEnv(env), detached: true })
    : spawn(process.execPath, ['dist/server/main.js'], {
        cwd: ROOT,
        env: childEnv(env),
        detached: true,
      });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${text}`)), 100_000);
      const check = () => {
        if (ready.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}:\n${text}`));
      });
    });
  } finally {
    process.kill(-(child.pid as number), 'SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
  return text;
}

function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', TERM: 'xterm', ...env };
}

// Logs do not depend on the database; PostgreSQL starts fastest.
describe('npm start logs', () => {
  it('on a terminal: a short block with the URLs and the mode, coloured lines, no JSON', async () => {
    const out = await startAndRead({ DATABASE_URL: await newDatabaseUrl() }, true, /Auth\s+off/);
    expect(out).toMatch(/Vigil ready in \d+\.\d s/);
    for (const label of ['Dashboard', 'GraphQL', 'REST', 'Metrics', 'Data', 'Auth']) {
      expect(out).toMatch(new RegExp(`^\\s+${label}\\s+\\S`, 'm'));
    }
    expect(out).toMatch(/GraphQL\s+http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(out).toMatch(/Auth\s+off: loopback only/);
    expect(out).toContain('\x1b['); // coloured
    expect(out).not.toMatch(/^\{"level"/m);
    // short: no line of the block runs on (the JSON message was ~600 characters on one line)
    const longest = Math.max(...out.split('\n').map((l) => stripVTControlCharacters(l).length));
    expect(longest).toBeLessThan(120);
  }, 120_000);

  it('on a terminal with LOG_FORMAT=json, and on a pipe: JSON lines (pino) with the URL', async () => {
    const url = await newDatabaseUrl();
    for (const [terminal, env] of [
      [true, { LOG_FORMAT: 'json' }],
      [false, {}],
    ] as const) {
      const out = await startAndRead({ DATABASE_URL: url, ...env }, terminal, /"url":"http/);
      const lines = out.split(/\r?\n/).filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(0);
      const listening = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.url);
      expect(listening).toMatchObject({ level: 30, database: 'postgres', auth: 'off' });
      expect(out).not.toContain('Vigil ready in');
    }
  }, 200_000);
});
