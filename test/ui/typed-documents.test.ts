import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The dashboard's documents are typed from schema.graphql (issue 21, item 2): `npm run typecheck` runs
 * `gql-tada check` on them, so a field the dashboard reads that the schema renames fails the type-check, not the
 * dashboard at run time. Checked here on a copy of the schema with fields the dashboard reads renamed
 * (`npm run typecheck` checks them on the schema as it is).
 */

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** Fields the dashboard's documents read (the list row, the change feed, the footer, the overview), renamed. */
const RENAMES: [type: string, field: string, renamed: string][] = [
  ['Execution', 'pinned', 'isPinned'],
  ['Query', 'executionChangesCursor', 'changesCursor'],
  ['Retention', 'oldestExecutionAt', 'oldestAt'],
  ['WorkflowDurations', 'p95Ms', 'p95'],
];

function renamed(schema: string): string {
  let out = schema;
  for (const [type, field, to] of RENAMES) {
    const block = new RegExp(`(\\ntype ${type}\\b[^{]*\\{)([^}]*)\\}`);
    const match = block.exec(out);
    if (!match) throw new Error(`schema.graphql has no type ${type}`);
    const body = (match[2] as string).replace(new RegExp(`(\\n\\s+)${field}\\b`), `$1${to}`);
    if (body === match[2]) throw new Error(`type ${type} has no field ${field}`);
    out = out.replace(match[0], `${match[1]}${body}}`);
  }
  return out;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * `gql-tada check` of the dashboard's documents against `schema`: its exit code and what it printed. The check
 * scans the files under its tsconfig's folder, so the documents module is copied with what it imports (the SDK's
 * `graphql()` and its introspection, the event-line fragment) into a temporary project that reads this checkout's
 * node_modules.
 */
async function check(schema: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-typed-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'sdk'));
  for (const f of ['dashboard.ts', 'event-line.ts', 'graphql.ts', 'graphql-env.d.ts']) {
    copyFileSync(join(ROOT, 'src/client/sdk', f), join(dir, 'sdk', f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'schema.graphql'), schema);
  const plugin = {
    name: 'gql.tada/ts-plugin',
    schema: './schema.graphql',
    tadaOutputLocation: './sdk/graphql-env.d.ts',
  };
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
    plugins: [plugin],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['sdk'] }));
  try {
    const r = await run(join(ROOT, 'node_modules/.bin/gql-tada'), ['check', '-c', join(dir, 'tsconfig.json')], {
      cwd: dir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe("the dashboard's documents against schema.graphql", () => {
  // one run (gql-tada check takes some 20 s here); the documents pass it on the schema as it is in `npm run typecheck`
  it('fail gql-tada check, naming each field, when fields they read are renamed in the schema', {
    timeout: 120_000,
  }, async () => {
    const schema = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');
    const r = await check(renamed(schema));
    expect(r.code, r.output).not.toBe(0);
    for (const [type, field] of RENAMES) expect(r.output).toContain(`Cannot query field "${field}" on type "${type}"`);
    expect(r.output).toContain('sdk/dashboard.ts');
  });
});
