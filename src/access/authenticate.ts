import { openPrincipal, type Principal } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';
import type { Environment } from '../domain/types.js';

/** Reads a request header by (lower-case) name. */
export type HeaderReader = (name: string) => string | null | undefined;

/** Turns a request's headers into the Principal every domain call is made for (API.md §5). */
export interface Authenticator {
  authenticate(header: HeaderReader): Promise<Principal>;
}

export function parseEnvironment(value: string | null | undefined): Environment | null {
  if (value == null || value === '') return null;
  const v = value.trim().toLowerCase();
  if (v === 'test' || v === 'live') return v;
  throw new VigilError('VALIDATION_FAILED', 'X-Environment must be "test" or "live"', {
    issues: [{ loc: ['header', 'x-environment'], msg: 'must be "test" or "live"', type: 'enum' }],
  });
}

/** Auth off: organization `default`, every scope, X-Environment optional and `test` by default. */
export class OpenAccess implements Authenticator {
  async authenticate(header: HeaderReader): Promise<Principal> {
    return openPrincipal(parseEnvironment(header('x-environment')) ?? 'test');
  }
}
