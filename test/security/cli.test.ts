import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDatabaseUrl, startTestServer, type TestServer } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function vigil(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/vigil.js', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('vigil keys, end to end on PostgreSQL', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    env = { DATABASE_URL: url };
    s = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_AUTH: 'on' } });
  });
  afterAll(() => s.close());

  it('creates a key (secret alone on the last line), lists it without the secret, and revoking it ends access', async () => {
    const created = await vigil(
      [
        'keys',
        'create',
        '--org',
        'acme',
        '--env',
        'test,live',
        '--scopes',
        'executions:read,executions:write',
        '--name',
        'ci',
      ],
      env,
    );
    expect(created.code).toBe(0);
    const lines = created.stdout.trimEnd().split('\n');
    const secret = lines.at(-1) ?? '';
    expect(secret).toMatch(/^vigil_[A-Za-z0-9_-]{43}$/);
    const id = /Created API key ([0-9a-f-]{36})/.exec(created.stdout)?.[1] ?? '';

    const headers = { authorization: `Bearer ${secret}`, 'x-environment': 'live' };
    const use = await s.gql<{ viewer: { organizationId: string; environment: string } }>(
      '{ viewer { organizationId environment } }',
      {},
      headers,
    );
    expect(use.data?.viewer).toEqual({ organizationId: 'acme', environment: 'LIVE' });

    const listed = await vigil(['keys', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('active');
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(secret.slice(20));

    const revoked = await vigil(['keys', 'revoke', id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API key ${id}`);
    const after = await s.gql('{ viewer { organizationId } }', {}, headers);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect((await vigil(['keys', 'list'], env)).stdout).toContain('revoked');
  });

  it('refuses bad options with a clear message and exit code 3', async () => {
    const r = await vigil(['keys', 'create', '--org', 'acme', '--env', 'prod', '--scopes', 'executions:read'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('environments');
    const missing = await vigil(['keys', 'create', '--org', 'acme'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('--env');
    expect((await vigil(['keys', 'revoke', '01900000-0000-7000-8000-000000000000'], env)).code).toBe(1);
  });
});

describe('vigil keys with VIGIL_KEY_PEPPER', () => {
  it('creates keys that a server with the same pepper accepts, and one with another pepper refuses', async () => {
    const url = await newDatabaseUrl();
    const pepper = 'a-pepper-the-operator-chose';
    const peppered = await startTestServer('postgres', {
      databaseUrl: url,
      env: { VIGIL_AUTH: 'on', VIGIL_KEY_PEPPER: pepper },
    });
    const plain = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_AUTH: 'on' } });
    try {
      const created = await vigil(['keys', 'create', '--org', 'acme', '--env', 'test', '--scopes', 'executions:read'], {
        DATABASE_URL: url,
        VIGIL_KEY_PEPPER: pepper,
      });
      expect(created.code, created.stderr).toBe(0);
      const headers = { authorization: `Bearer ${created.stdout.trimEnd().split('\n').at(-1)}` };
      expect((await peppered.gql('{ viewer { organizationId } }', {}, headers)).status).toBe(200);
      expect((await plain.gql('{ viewer { organizationId } }', {}, headers)).status).toBe(401);
    } finally {
      await Promise.all([peppered.close(), plain.close()]);
    }
  });
});

describe('vigil keys on PGlite', () => {
  it('refuses clearly while a server holds the data directory, and works once it stopped', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnVigil } = await import('../support/process.js');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-keys-'));
    try {
      const server = await spawnVigil({ VIGIL_DATA_DIR: dir, VIGIL_AUTH: 'on' });
      const refused = await vigil(['keys', 'list'], { VIGIL_DATA_DIR: dir });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('is in use by another Vigil process');
      expect(await server.stop()).toBe(0);
      const created = await vigil(['keys', 'create', '--org', 'o', '--env', 'test', '--scopes', 'executions:read'], {
        VIGIL_DATA_DIR: dir,
      });
      expect(created.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
