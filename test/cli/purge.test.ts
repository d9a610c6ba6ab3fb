import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, kept, running } from '../retention/support.js';
import { runCli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { spawnVigil } from '../support/process.js';

describe('vigil purge --older-than: bad durations exit 3 before touching the database', () => {
  it.each(['30', '1w', '-1d', 'abc', '1.d', '', '30 d', 'd', '.5d', '1e3d'])('refuses %j', async (value) => {
    const r = await runCli(['purge', '--older-than', value], { DATABASE_URL: 'postgres://x:x@127.0.0.1:9/x' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--older-than.*expected a number and one of s, m, h, d, e\.g\. 30d, 12h, 90m or 0s/);
  });
});

describe('vigil purge on PostgreSQL, beside a running server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer('postgres', { env: { VIGIL_RETENTION_DAYS: '0' } });
    env = { DATABASE_URL: s.databaseUrl as string };
  });
  afterAll(() => s?.close());

  it('counts with --dry-run, then deletes by the same rules, only the workflow asked for', async () => {
    const a = await finished(s, { workflowId: 'purge-a' });
    const child = await finished(s, { workflowId: 'purge-other', parentExecutionId: a.id });
    const busy = await running(s, { workflowId: 'purge-a' });
    const b = await finished(s, { workflowId: 'purge-b' });

    const young = await runCli(['purge', '--older-than', '1d'], env);
    expect(young.code, young.stderr).toBe(0);
    expect(young.stdout).toBe('0 executions, 0 events\n');

    const dry = await runCli(['purge', '--older-than', '0s', '--workflow', 'purge-a', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe('would delete 2 executions, 6 events\n');
    expect(await kept(s, [a.id, child.id, busy.id, b.id])).toEqual([a.id, child.id, busy.id, b.id]);

    const real = await runCli(['purge', '--older-than', '0s', '--workflow', 'purge-a'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toBe('2 executions, 6 events\n');
    expect(await kept(s, [a.id, child.id, busy.id, b.id])).toEqual([busy.id, b.id]);

    const rest = await runCli(['purge', '--older-than', '0s'], env);
    expect(rest.stdout).toBe('1 executions, 3 events\n');
    expect(await kept(s, [busy.id, b.id])).toEqual([busy.id]);
  });
});

describe('vigil purge on PGlite', () => {
  it('refuses clearly while a server holds the data directory, and purges once it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-purge-'));
    try {
      const server = await spawnVigil({ VIGIL_DATA_DIR: dir });
      const gql = async (query: string, variables: Record<string, unknown>) => {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
        });
        return { status: res.status, headers: res.headers, ...((await res.json()) as object) };
      };
      const client = { gql } as unknown as TestServer;
      await finished(client, { workflowId: 'purge-pglite' });
      await finished(client, { workflowId: 'purge-pglite' });
      await running(client, { workflowId: 'purge-pglite' });

      const refused = await runCli(['purge', '--older-than', '0s'], { VIGIL_DATA_DIR: dir });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('is in use by another Vigil process');
      expect(refused.stdout).toBe('');
      expect(await server.stop()).toBe(0);

      const dry = await runCli(['purge', '--older-than', '0s', '--dry-run'], { VIGIL_DATA_DIR: dir });
      expect(dry.stdout, dry.stderr).toBe('would delete 2 executions, 6 events\n');
      const real = await runCli(['purge', '--older-than', '0s'], { VIGIL_DATA_DIR: dir });
      expect(real.code, real.stderr).toBe(0);
      expect(real.stdout).toBe('2 executions, 6 events\n');
      const after = await runCli(['purge', '--older-than', '0s', '--dry-run'], { VIGIL_DATA_DIR: dir });
      expect(after.stdout).toBe('would delete 0 executions, 0 events\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
