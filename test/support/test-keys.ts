import { type Authenticator, type HeaderReader, parseEnvironment } from '../../src/access/authenticate.js';
import type { Principal, Scope } from '../../src/domain/access.js';
import { VigilError } from '../../src/domain/errors.js';

const KEYS = {
  reader: ['executions:read'],
  writer: ['executions:read', 'executions:write'],
  admin: ['executions:read', 'executions:write', 'executions:admin'],
} as const satisfies Record<string, readonly Scope[]>;
type Role = keyof typeof KEYS;

/**
 * Auth on, with three fixed keys, for tests of the clients (dashboard, CLI): they see exactly what they would from
 * the real key store (HTTP 401 + UNAUTHORIZED without a valid key; scopes through `viewer`).
 */
export class TestKeys implements Authenticator {
  static secret(role: Role): string {
    return `vk_test_${role}`;
  }

  static headers(role: Role): Record<string, string> {
    return { authorization: `Bearer ${TestKeys.secret(role)}` };
  }

  async authenticate(header: HeaderReader): Promise<Principal> {
    const token = /^Bearer (.+)$/.exec(header('authorization') ?? '')?.[1];
    const role = (Object.keys(KEYS) as Role[]).find((r) => TestKeys.secret(r) === token);
    if (!role) throw new VigilError('UNAUTHORIZED', 'Missing or unknown API key');
    return {
      organizationId: 'acme',
      environment: parseEnvironment(header('x-environment')) ?? 'test',
      scopes: new Set(KEYS[role]),
      keyId: role,
    };
  }
}
