import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import { type ApiKeyRow, apiKeys } from '../db/schema.js';
import { SCOPES, type Scope } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';
import { parse } from '../domain/inputs.js';
import type { Environment } from '../domain/types.js';

/**
 * API keys are 32 random bytes (256 bits), so a fast keyed hash is enough: HMAC-SHA256 with a server-side pepper
 * (VIGIL_KEY_PEPPER; a fixed default when unset). Brute force is hopeless at that entropy; the pepper only adds that a
 * stolen table alone cannot be checked against candidate keys. Lookups go by the hash (unique index), and the final
 * comparison is constant-time.
 */
export const KEY_PREFIX = 'vigil_';
export const DEFAULT_PEPPER = 'vigil-api-key-pepper-v1';

/** The keyed hash stored for a secret; `pepper` is the server's `VIGIL_KEY_PEPPER` (Config), passed down. */
export function hashSecret(secret: string, pepper = DEFAULT_PEPPER): string {
  return createHmac('sha256', pepper).update(secret).digest('base64url');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const createKeyInput = z.strictObject({
  organizationId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
  environments: z
    .array(z.enum(['test', 'live']))
    .min(1)
    .max(2),
  scopes: z.array(z.enum(SCOPES)).min(1).max(3),
  name: z.string().max(200).nullish(),
});

export interface CreatedKey {
  key: ApiKeyRow;
  /** The secret: shown once, never stored. */
  secret: string;
}

export async function createApiKey(
  db: Executor,
  raw: unknown,
  options: { pepper?: string; now?: Date } = {},
): Promise<CreatedKey> {
  const input = parse(createKeyInput, raw);
  const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const [key] = await db
    .insert(apiKeys)
    .values({
      id: uuidv7(),
      organizationId: input.organizationId,
      name: input.name ?? null,
      environments: [...new Set(input.environments)].sort(),
      scopes: [...new Set(input.scopes)].sort(),
      prefix: secret.slice(0, KEY_PREFIX.length + 6),
      secretHash: hashSecret(secret, options.pepper),
      createdAt: options.now ?? new Date(),
    })
    .returning();
  if (!key) throw new VigilError('INTERNAL', 'key insert returned nothing');
  return { key, secret };
}

export async function listApiKeys(db: Executor): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt));
}

/** Revokes a key; returns it, or null when there is no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(db: Executor, id: string, now = new Date()): Promise<ApiKeyRow | null> {
  if (!z.uuid().safeParse(id).success) return null;
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (revoked) return revoked;
  const [existing] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return existing ?? null;
}

/** The live key whose secret this is, or null. */
export async function findKeyBySecret(db: Executor, secret: string, pepper?: string): Promise<ApiKeyRow | null> {
  if (!secret.startsWith(KEY_PREFIX) || secret.length > 200) return null;
  const hash = hashSecret(secret, pepper);
  const [key] = await db.select().from(apiKeys).where(eq(apiKeys.secretHash, hash));
  if (!key || !sameHash(key.secretHash, hash) || key.revokedAt) return null;
  return key;
}

export const scopesOf = (key: ApiKeyRow) =>
  key.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
export const environmentsOf = (key: ApiKeyRow) =>
  key.environments.filter((e): e is Environment => e === 'test' || e === 'live');
