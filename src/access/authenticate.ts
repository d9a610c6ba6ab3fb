import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type ApiKeyRow, apiKeys } from '../db/schema.js';
import { openPrincipal, type Principal } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';
import type { Environment } from '../domain/types.js';
import { environmentsOf, findKeyBySecret, hashSecret, scopesOf } from './keys.js';
import type { RateLimiter } from './rate-limit.js';

/** Reads a request header by (lower-case) name. */
export type HeaderReader = (name: string) => string | null | undefined;

/** Turns a request into the Principal every domain call is made for (API.md §5), or throws the access error. */
export interface Authenticator {
  authenticate(header: HeaderReader, remoteAddress?: string): Promise<Principal>;
}

export function parseEnvironment(value: string | null | undefined): Environment | null {
  if (value == null || value === '') return null;
  const v = value.trim().toLowerCase();
  if (v === 'test' || v === 'live') return v;
  throw new VigilError('VALIDATION_FAILED', 'X-Environment must be "test" or "live"', {
    issues: [{ loc: ['header', 'x-environment'], msg: 'must be "test" or "live"', type: 'enum' }],
  });
}

/** Auth off: organization `default`, every scope, X-Environment optional and `test` by default; limits by address. */
export class OpenAccess implements Authenticator {
  /** One principal per environment, made once (frozen: every request shares it). */
  private readonly principals: Record<Environment, Principal> = {
    test: Object.freeze(openPrincipal('test')),
    live: Object.freeze(openPrincipal('live')),
  };

  constructor(private readonly limiter: RateLimiter | null = null) {}

  async authenticate(header: HeaderReader, remoteAddress = 'unknown'): Promise<Principal> {
    const principal = this.principals[parseEnvironment(header('x-environment')) ?? 'test'];
    this.limiter?.take(`addr:${remoteAddress}`);
    return principal;
  }
}

interface CacheEntry {
  key: ApiKeyRow;
  expires: number;
}

export interface KeyAccessOptions {
  limiter?: RateLimiter | null;
  /** How long a verified key is trusted without a database read. Revocation notices cut it short. */
  cacheMs?: number;
  /** How often keys with open streams are checked for revocation (the safety net for a lost notice). */
  recheckMs?: number;
  onError?: (err: unknown) => void;
  /** The server's VIGIL_KEY_PEPPER (keys.ts `DEFAULT_PEPPER` when unset). */
  pepper?: string;
}

/**
 * Auth on: `Authorization: Bearer <key>`. A verified key is cached briefly (by its hash, never the secret); its
 * revocation (a notice from `vigil keys revoke`, or the periodic re-check) aborts the signal every principal of that
 * key carries, which ends its open waits and streams.
 */
export class KeyAccess implements Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly signals = new Map<string, AbortController>();
  private readonly lastTouched = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly cacheMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: KeyAccessOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5000;
    this.timer = setInterval(() => void this.recheck(), options.recheckMs ?? 5000);
    this.timer.unref();
  }

  async authenticate(header: HeaderReader, _remoteAddress?: string): Promise<Principal> {
    const authorization = header('authorization');
    if (!authorization) {
      throw new VigilError('UNAUTHORIZED', 'Missing API key: send Authorization: Bearer <key>');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new VigilError('UNAUTHORIZED', 'Malformed Authorization header: expected Bearer <key>');
    const key = await this.verify(match[1]);
    if (!key) throw new VigilError('UNAUTHORIZED', 'Unknown or revoked API key');

    const allowed = environmentsOf(key);
    const requested = parseEnvironment(header('x-environment'));
    let environment: Environment;
    if (requested) {
      if (!allowed.includes(requested)) {
        throw new VigilError('FORBIDDEN', `This API key may not use the ${requested} environment`);
      }
      environment = requested;
    } else if (allowed.length === 1 && allowed[0]) {
      environment = allowed[0];
    } else {
      throw new VigilError('VALIDATION_FAILED', 'X-Environment is required: this API key may use test and live', {
        issues: [
          { loc: ['header', 'x-environment'], msg: 'required for a key with both environments', type: 'missing' },
        ],
      });
    }
    this.options.limiter?.take(`key:${key.id}`);
    this.touch(key.id);
    return {
      organizationId: key.organizationId,
      environment,
      scopes: new Set(scopesOf(key)),
      keyId: key.id,
      signal: this.signalOf(key.id),
    };
  }

  private async verify(secret: string): Promise<ApiKeyRow | null> {
    const hash = hashSecret(secret, this.options.pepper);
    const cached = this.cache.get(hash);
    if (cached && cached.expires > Date.now()) return cached.key;
    const key = await findKeyBySecret(this.db, secret, this.options.pepper);
    if (key) this.cache.set(hash, { key, expires: Date.now() + this.cacheMs });
    else this.cache.delete(hash);
    return key;
  }

  private signalOf(keyId: string): AbortSignal {
    let controller = this.signals.get(keyId);
    if (!controller || controller.signal.aborted) {
      controller = new AbortController();
      this.signals.set(keyId, controller);
    }
    return controller.signal;
  }

  /** A key was revoked (here or on another instance): forget it and end everything it holds open. */
  revoked(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.key.id === keyId) this.cache.delete(hash);
    this.signals.get(keyId)?.abort();
    this.signals.delete(keyId);
  }

  /** lastUsedAt, written at most once a minute per key, off the request path. */
  private touch(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastTouched.get(keyId) ?? 0) < 60_000) return;
    this.lastTouched.set(keyId, now);
    this.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now) })
      .where(eq(apiKeys.id, keyId))
      .catch((err) => this.options.onError?.(err));
  }

  private async recheck(): Promise<void> {
    const ids = [...this.signals.keys()];
    if (ids.length === 0) return;
    try {
      const gone = await this.db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(inArray(apiKeys.id, ids), isNotNull(apiKeys.revokedAt)));
      for (const { id } of gone) this.revoked(id);
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
