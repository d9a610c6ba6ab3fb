import { describe, expect, it } from 'vitest';
import { isLoopback, protectedModeRefusal } from '../../src/access/protected-mode.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { codeOf, createExecution, ok, startTestServer } from '../support/harness.js';
import { makeKey } from '../support/keys.js';

describe('protected mode', () => {
  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])('lets %s run with auth off', (host) => {
    expect(isLoopback(host)).toBe(true);
    expect(protectedModeRefusal(host, 'off')).toBeNull();
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'example.com'])('refuses %s with auth off and says how to fix it', (host) => {
    const message = protectedModeRefusal(host, 'off');
    expect(message).toContain(`Refusing to listen on ${host} with auth off`);
    expect(message).toContain('VIGIL_AUTH=on');
    expect(message).toContain('npx vigil keys create');
    expect(protectedModeRefusal(host, 'on')).toBeNull();
  });

  it('refuses to start a server on a non-loopback address with auth off, before opening anything', async () => {
    await expect(startServer(loadConfig({ HOST: '0.0.0.0', PORT: '0', VIGIL_AUTH: 'off' }))).rejects.toThrow(
      /Refusing to listen on 0\.0\.0\.0 with auth off/,
    );
  });
});

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After per key, and each key has its own budget', async () => {
    const s = await startTestServer('pglite', {
      env: { VIGIL_AUTH: 'on', VIGIL_RATE_LIMIT: '2', VIGIL_RATE_BURST: '3' },
    });
    try {
      const a = await makeKey(s, 'acme', ['executions:read']);
      const b = await makeKey(s, 'acme', ['executions:read']);
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof s.gql>> | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await s.gql('{ viewer { organizationId } }', {}, a.headers);
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      expect(codeOf(limited as never)).toBe('RATE_LIMITED');
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await s.gql('{ viewer { organizationId } }', {}, b.headers)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('limits by client address when auth is off, and counts a long wait once', async () => {
    const s = await startTestServer('pglite', { env: { VIGIL_RATE_LIMIT: '1', VIGIL_RATE_BURST: '2' } });
    try {
      const { id } = await createExecution(s); // 1st token
      const wait = await s.gql('query($id: ID!) { waitForExecution(id: $id, timeout: 3) { completed } }', { id }); // 2nd, held 3 s
      expect(ok(wait)).toEqual({ waitForExecution: { completed: false } });
      // 3 s of waiting refilled the bucket instead of draining it
      expect((await s.gql('{ viewer { organizationId } }')).status).toBe(200);
      expect((await s.gql('{ viewer { organizationId } }')).status).toBe(200);
      const third = await s.gql('{ viewer { organizationId } }');
      expect(third.status).toBe(429);
      expect(codeOf(third)).toBe('RATE_LIMITED');
    } finally {
      await s.close();
    }
  });
});
