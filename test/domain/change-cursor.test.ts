import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/access.js';
import { codecOf } from '../../src/domain/changes.js';

const tenant = (organizationId: string, environment: string): Principal =>
  ({ organizationId, environment, scopes: new Set(), keyId: null }) as unknown as Principal;

/** The cursor's mac as ARCHITECTURE.md states it: HMAC-SHA256 over tenant and position, its first 128 bits. */
const reference = (secret: string, p: Principal, body: string) =>
  createHmac('sha256', secret)
    .update(`${p.organizationId}\u0000${p.environment}\u0000${body}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');

describe('change cursors', () => {
  // The migration's key is 64 hex characters (one block); a shorter and a longer key take HMAC's other two paths.
  it.each([
    ['a key of one block', 'ab12'.repeat(16)],
    ['a shorter key', 'short key'],
    ['a longer key (hashed first)', 'k'.repeat(200)],
  ])('are signed with HMAC-SHA256 for %s, so cursors issued before stay good', (_name, secret) => {
    const codec = codecOf(secret);
    for (const [p, xid, seq] of [
      [tenant('default', 'test'), 756n, 0n],
      [tenant('org-ü', 'live'), 18446744073709551615n, 9223372036854775807n],
    ] as const) {
      const cursor = codec.encode(p, { xid, seq });
      expect(cursor).toBe(`${xid}.${seq}.${reference(secret, p, `${xid}.${seq}`)}`);
      expect(codec.decode(p, cursor)).toEqual({ xid, seq });
    }
  });

  it('refuse a cursor issued to another tenant or with another position', () => {
    const codec = codecOf('ab12'.repeat(16));
    const cursor = codec.encode(tenant('default', 'test'), { xid: 10n, seq: 3n });
    expect(() => codec.decode(tenant('default', 'live'), cursor)).toThrow(/not a cursor this server issued/);
    expect(() => codec.decode(tenant('default', 'test'), cursor.replace(/^10\./, '11.'))).toThrow(
      /not a cursor this server issued/,
    );
  });
});
