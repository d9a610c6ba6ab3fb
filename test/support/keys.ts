import { createApiKey, revokeApiKey } from '../../src/access/keys.js';
import type { Scope } from '../../src/domain/access.js';
import type { Environment } from '../../src/domain/types.js';
import { CHANNEL } from '../../src/feed/transport.js';
import type { TestServer } from './harness.js';

export interface TestKey {
  id: string;
  secret: string;
  headers: Record<string, string>;
}

/** Creates a key in the server's database, as `vigil keys create` does. */
export async function makeKey(
  s: TestServer,
  organizationId: string,
  scopes: Scope[],
  environments: Environment[] = ['test'],
): Promise<TestKey> {
  const { key, secret } = await createApiKey(s.database.db, { organizationId, scopes, environments });
  return { id: key.id, secret, headers: { authorization: `Bearer ${secret}` } };
}

/** Revokes a key as `vigil keys revoke` does (on PostgreSQL, with the notice running instances act on). */
export async function revokeKey(s: TestServer, id: string): Promise<void> {
  await revokeApiKey(s.database.db, id);
  if (s.database.notifier.kind === 'postgres') {
    await s.database.notifier.sql`select pg_notify(${CHANNEL}, ${`! revoke ${id}`})`;
  }
}
