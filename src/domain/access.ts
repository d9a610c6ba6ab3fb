import { VigilError } from './errors.js';
import type { Environment } from './types.js';

export const SCOPES = ['executions:read', 'executions:write', 'executions:admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: the tenant (organization + environment) every read and write is confined to, and what they may do. */
export interface Principal {
  organizationId: string;
  environment: Environment;
  scopes: ReadonlySet<Scope>;
  /** The API key's id, or null when auth is off. */
  keyId: string | null;
  /** Aborted when the credential is revoked: open waits and streams of this principal end then. */
  signal?: AbortSignal;
}

/** Throws UNAUTHORIZED when the principal's credential was revoked (checked before long-lived work starts). */
export function requireLive(principal: Principal): void {
  if (principal.signal?.aborted) throw revokedError();
}

export function revokedError(): VigilError {
  return new VigilError('UNAUTHORIZED', 'The API key was revoked');
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new VigilError('FORBIDDEN', `This API key lacks the ${scope} scope`);
  }
}

const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

/** The principal of every request while auth is off (API.md §5): organization `default`, every scope. */
export function openPrincipal(environment: Environment = 'test'): Principal {
  return { organizationId: 'default', environment, scopes: ALL_SCOPES, keyId: null };
}
