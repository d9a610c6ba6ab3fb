import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { TestKeys } from '../support/test-keys.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';
/** The README's Python example needs only a python3 on the PATH; a machine without one cannot run it. */
const HAS_PYTHON = spawnSync(PYTHON, ['--version']).status === 0;

/** Runs `python3 examples/rest_client.py` (as the README says) against the server, to its end. */
function runExample(env: Record<string, string>) {
  const child = spawn(PYTHON, ['examples/rest_client.py'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, out })),
  );
}

const GET = `query($id: ID!) { execution(id: $id) { status workflowId environment progress { percentage } tags { key value } lastSequence } }`;

// Skipped only where python3 is missing: the example is Python, and nothing else can run it.
describe.skipIf(!HAS_PYTHON).each(DB_KINDS)('the Python REST example (python3, urllib only) on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { auth: new TestKeys() });
  });
  afterAll(() => s?.close());

  it('creates an execution, records its events and waits for it, with an API key and an environment', async () => {
    const { code, out } = await runExample({
      VIGIL_URL: s.url,
      VIGIL_API_KEY: TestKeys.secret('writer'),
      VIGIL_ENVIRONMENT: 'live',
    });
    expect(code, out).toBe(0);
    const id = /created ([0-9a-f-]{36}) PENDING/.exec(out)?.[1] ?? '';
    expect(out).toContain('recorded 3 events; status COMPLETED');
    expect(out).toMatch(/waited: completed True in [\d.]+ ms/);
    const got = ok(
      await s.gql<{ execution: Record<string, unknown> }>(
        GET,
        { id },
        {
          ...TestKeys.headers('reader'),
          'x-environment': 'live',
        },
      ),
    );
    expect(got.execution).toEqual({
      status: 'COMPLETED',
      workflowId: 'python-report',
      environment: 'LIVE',
      progress: { percentage: 50 },
      tags: [{ key: 'lang', value: 'python' }],
      lastSequence: 3,
    });
  });

  it("exits with Vigil's error body when the key is refused", async () => {
    const { code, out } = await runExample({ VIGIL_URL: s.url, VIGIL_API_KEY: 'vk_wrong' });
    expect(code).toBe(1);
    expect(out).toMatch(/POST \/api\/v1\/executions: 401 \{"detail":.*"error_code":"UNAUTHORIZED"/);
  });
});
