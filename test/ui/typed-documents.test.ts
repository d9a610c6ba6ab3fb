import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The dashboard's documents are typed from schema.graphql (issue 21, item 2): `npm run typecheck` runs
 * `gql-tada check` on them, so a field the dashboard reads that the schema renames fails the type-check, not the
 * dashboard at run time. Checked here on a copy of the schema with fields the dashboard reads renamed (and, so that
 * the failure is the renames', on the schema as it is).
 */

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const DASHBOARD = join(ROOT, 'src/client/sdk/dashboard.ts');

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

/** `gql-tada check` of the dashboard's documents against `schema`: its exit code and what it printed. */
async function check(schema: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-typed-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'schema.graphql'), schema);
  const plugin = { name: 'gql.tada/ts-plugin', schema: './schema.graphql', tadaOutputLocation: './graphql-env.d.ts' };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: [],
      plugins: [plugin],
    },
    files: [DASHBOARD],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const bin = join(ROOT, 'node_modules/.bin/gql-tada');
  try {
    const r = await run(bin, ['check', '-c', join(dir, 'tsconfig.json'), '--fail-on-warn'], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe("the dashboard's documents against schema.graphql", () => {
  const schema = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');

  it('pass gql-tada check as the schema is', { timeout: 60_000 }, async () => {
    const r = await check(schema);
    expect(r.code, r.output).toBe(0);
  });

  it('fail it, naming each field, when fields they read are renamed in the schema', { timeout: 60_000 }, async () => {
    const r = await check(renamed(schema));
    expect(r.code).not.toBe(0);
    for (const [type, field] of RENAMES) expect(r.output).toMatch(new RegExp(`${field}.*${type}|${type}.*${field}`));
  });
});
