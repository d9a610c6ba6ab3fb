import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Asynchronous: the server under test runs in this process and must keep answering meanwhile.
const run = promisify(execFile);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** What a user of the package writes, type-checked strictly against the installed `vigil/client`. */
const USAGE = `import { createVigil, type Execution, type ExecutionEvent } from 'vigil/client';

const vigil = createVigil({ url: process.env.VIGIL_URL ?? '', environment: 'test' });
const run = await vigil.startExecution({ workflowId: 'installed', heartbeatTimeoutSeconds: 30 });
await run.step({ stepId: 'load', status: 'RUNNING' });
void run.log('loading', { level: 'INFO' });
await run.progress(50, 'load');
await run.tags({ set: { team: 'data' } });
await run.complete({ rows: 3 });
const waited = await vigil.wait(run.id, { timeout: 5 });
const execution: Execution | null = await vigil.execution(run.id);
const types: string[] = [];
for await (const ev of vigil.events(run.id)) {
  const e: ExecutionEvent = ev;
  types.push(e.type);
}
// @ts-expect-error: no such field in the schema
void execution?.workflowName;
const page = await vigil.executions({ workflowId: 'installed' }, { first: 1 });
vigil.close();
console.log(JSON.stringify({
  completed: waited.completed,
  status: execution?.status,
  output: execution?.output,
  tags: execution?.tags,
  types,
  listed: page.edges.map((e) => e.node.id).includes(run.id),
}));
`;

describe('vigil/client installed into another project', () => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    s = await startTestServer('pglite');
    dir = mkdtempSync(join(tmpdir(), 'vigil-sdk-user-'));
  });
  afterAll(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the built entry imports no server code, no database driver and no PGlite', () => {
    const meta = JSON.parse(readFileSync(join(root, 'dist', 'client', 'meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const output = meta.outputs['dist/client/index.js'];
    const inputs = Object.entries(output?.inputs ?? {}).flatMap(([path, i]) => (i.bytesInOutput > 0 ? [path] : []));
    expect(inputs).toContain('src/client/sdk/index.ts');
    expect(inputs.filter((p) => p.startsWith('src/') && !p.startsWith('src/client/'))).toEqual([]);
    const server = /pglite|drizzle|postgres|hono|graphql-yoga|pino|node_modules\/graphql\//;
    expect(inputs.filter((p) => server.test(p))).toEqual([]);
    const code = readFileSync(join(root, 'dist', 'client', 'index.js'), 'utf8');
    expect(code).not.toMatch(/from\s*["'](?!\.)[^"']+["']/); // no import left: everything it needs is inside
  });

  it('packs the built SDK, CLI and server (what a git or registry install gets), not the sources', async () => {
    // npm packs a git dependency after its `prepare` (the build); without `files` it left out everything .gitignore
    // names, dist/ included, so `vigil/client` did not resolve after `npm install git+…`
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
    for (const f of ['dist/client/index.js', 'dist/types/sdk/index.d.ts', 'dist/cli/main.js', 'bin/vigil.js']) {
      expect(files.has(f), f).toBe(true);
    }
    expect(files.has('dist/server/main.js') && files.has('drizzle/meta/_journal.json')).toBe(true);
    expect([...files].filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  }, 120_000);

  it('installs by path, type-checks a strict usage file and runs it against a live server', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', root], { cwd: dir });
    writeFileSync(join(dir, 'usage.ts'), USAGE);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          types: [],
          outDir: 'out',
        },
        files: ['usage.ts', 'env.d.ts'],
      }),
    );
    writeFileSync(join(dir, 'env.d.ts'), 'declare const process: { env: Record<string, string | undefined> };\n');
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir });
    const { stdout: out } = await run(process.execPath, [join(dir, 'out', 'usage.js')], {
      cwd: dir,
      env: { ...process.env, VIGIL_URL: s.url },
    });
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    expect(result).toEqual({
      completed: true,
      status: 'COMPLETED',
      output: { rows: 3 },
      tags: [{ key: 'team', value: 'data' }],
      types: ['STATUS_CHANGED', 'STEP', 'LOG', 'PROGRESS', 'TAGS_CHANGED', 'STEP', 'STATUS_CHANGED'],
      listed: true,
    });
  }, 180_000);

  it('a typo in the usage file fails the type-check', async () => {
    writeFileSync(join(dir, 'usage.ts'), USAGE.replace('// @ts-expect-error: no such field in the schema\n', ''));
    let output = '';
    try {
      await run(process.execPath, [tsc, '-p', dir, '--noEmit'], { cwd: dir });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout);
    }
    expect(output).toMatch(/Property 'workflowName' does not exist/);
  }, 120_000);

  it('the introspection the SDK is typed from is that of the committed schema.graphql', async () => {
    const fresh = join(dir, 'graphql-env.d.ts');
    await run(
      process.execPath,
      [join(root, 'node_modules', 'gql.tada', 'bin', 'cli.js'), 'generate', 'output', '-o', fresh],
      {
        cwd: root,
      },
    );
    const committed = readFileSync(join(root, 'src', 'client', 'sdk', 'graphql-env.d.ts'), 'utf8');
    expect(committed, 'run `npx gql-tada generate output` after `npm run schema:print`').toBe(
      readFileSync(fresh, 'utf8'),
    );
  }, 120_000);
});
