import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The processes below `pid` (children, grandchildren, …), from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const envOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/** What git sees in the checkout, ignored files included (dist/ is built before the run, by the global setup). */
const checkoutState = () =>
  execFileSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l && !l.includes('test/artifacts/') && !l.includes('node_modules/'))
    .sort();

/** `npm start`, exactly as a user runs it; resolves once the server has said where it listens. */
async function npmStart(
  env: Record<string, string>,
): Promise<{ npm: ChildProcess; url: string; output: () => string }> {
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  npm.stdout?.on('data', (d) => {
    text += d;
  });
  npm.stderr?.on('data', (d) => {
    text += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${text}`)), 100_000);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(text);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    npm.stdout?.on('data', check);
    npm.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${text}`));
    });
  });
  return { npm, url, output: () => text };
}

describe.each(DB_KINDS)('npm start on %s', (kind) => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs the compiled JavaScript with node (no TypeScript loader) and writes nothing into the checkout', async () => {
    const before = checkoutState();
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-compiled-'));
    dirs.push(dataDir);
    const env: Record<string, string> =
      kind === 'postgres' ? { DATABASE_URL: await newDatabaseUrl() } : { VIGIL_DATA_DIR: dataDir };
    const { npm, url, output } = await npmStart(env);
    const pids = descendants(npm.pid as number);
    const server = pids.find((p) => argvOf(p).includes('dist/server/main.js'));
    try {
      expect(server, `no node process runs dist/server/main.js under npm start:\n${output()}`).toBeDefined();
      const argv = argvOf(server as number);
      expect(argv.slice(1)).toEqual(['dist/server/main.js']);
      for (const p of [npm.pid as number, ...pids]) {
        expect(argvOf(p).join(' ')).not.toMatch(/tsx|esbuild|ts-node|\.ts\b/);
      }
      const nodeOptions = envOf(server as number).find((e) => e.startsWith('NODE_OPTIONS=')) ?? '';
      expect(nodeOptions).not.toMatch(/tsx|loader|--import/);

      // the compiled code finds what lives beside the sources: migrations, the dashboard, GraphiQL
      const created = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { createExecution(input: {workflowId: "compiled"}) { id status } }' }),
      });
      expect(await created.json()).toMatchObject({ data: { createExecution: { status: 'PENDING' } } });
      const dashboard = await fetch(`${url}/`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('<script');
      const graphiql = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await graphiql.text()).toContain('GraphiQL');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      // the server if found, else everything npm started (so a failed check leaves no process behind)
      for (const p of server ? [server] : pids.reverse()) {
        try {
          process.kill(p, 'SIGTERM');
        } catch {}
      }
      await new Promise((r) => (npm.exitCode === null ? npm.once('exit', r) : r(null)));
    }
    expect(npm.exitCode).toBe(0);
    expect(checkoutState()).toEqual(before);
  }, 120_000); // a fresh PGlite directory is initialized at start: seconds, more on a busy machine
});
