import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../access/protected-mode.js';
import type { Config } from '../config.js';
import { VigilError } from '../domain/errors.js';
import { isGraphQLPath, refusalReply } from './refusal.js';
import { writeReply } from './reply.js';

/**
 * What keeps a browser page from using Vigil on someone's behalf (README "Security"). Three checks, before any
 * route runs, on every path:
 * - **Host** (on a loopback bind): a name or address that is not loopback is refused, so a page on a DNS name that
 *   rebinds to 127.0.0.1 cannot reach the server even though its requests are then "same-origin" to the browser.
 *   On any other bind auth is on (protected mode), and the operator's own names are not known here; a rebinding
 *   page there has no key to send (keys are bearer headers a browser never adds by itself).
 * - **Origin**: a request that carries one is served only when it is the server's own origin (same host and port
 *   as `Host`) or listed in `VIGIL_CORS_ORIGINS`; only a listed origin gets CORS headers, never `*`, never
 *   credentials (Vigil has no cookies). Preflights are approved only for listed origins and Vigil's own methods and
 *   headers.
 * - **CSRF**: GraphQL runs no POST a browser could send without a preflight (a form's content types), even from
 *   a browser too old to send `Origin`.
 *
 * Hand-written rather than `cors` or Hono's middleware because it must sit in front of all three edges at once
 * (the node:http fast paths, yoga and Hono); yoga's own CORS is off.
 */
export interface BrowserRules {
  /** Refuse a non-loopback `Host` (the server listens on loopback). */
  loopbackHostsOnly: boolean;
  origins: ReadonlySet<string>;
}

export function browserRulesOf(config: Pick<Config, 'HOST' | 'VIGIL_CORS_ORIGINS'>): BrowserRules {
  return { loopbackHostsOnly: isLoopback(config.HOST), origins: new Set(config.VIGIL_CORS_ORIGINS) };
}

export const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const ALLOWED_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'last-event-id',
  'x-correlation-id',
  'x-environment',
  'x-graphql-event-stream-token',
];
const EXPOSED_HEADERS = 'X-Correlation-Id, Retry-After';
/**
 * The content types of an HTML form that yoga would parse: a browser sends them cross-site with no preflight. The
 * third such type, text/plain, and a POST with no content type, yoga refuses itself (415).
 */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
const HOST = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::\d{1,5})?$/i;

/** `localhost`, `*.localhost`, 127.0.0.0/8 or `[::1]`, with any port (browsers resolve `*.localhost` themselves). */
export function isLoopbackHost(host: string): boolean {
  const match = HOST.exec(host);
  if (!match) return false;
  const name = (match[1] ?? match[2] ?? '').toLowerCase();
  if (match[1] !== undefined) return isLoopback(name);
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

/** Why a request is refused before any route sees it, or null. Exported for the unit tests of the rules. */
export function refusalOf(
  req: Pick<IncomingMessage, 'method' | 'headers'>,
  path: string,
  rules: BrowserRules,
): string | null {
  const host = req.headers.host;
  if (rules.loopbackHostsOnly && host !== undefined && !isLoopbackHost(host)) {
    return 'This server listens on loopback only and answers only loopback host names (localhost, 127.0.0.1, [::1]).';
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, host) && !rules.origins.has(origin)) {
    return `Cross-origin requests from ${origin.slice(0, 200)} are not allowed (VIGIL_CORS_ORIGINS lists the allowed origins).`;
  }
  if (isGraphQLPath(path) && req.method === 'POST') {
    const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
    if (type !== undefined && FORM_TYPES.has(type)) {
      return 'GraphQL over POST needs Content-Type: application/json (a browser form cannot run an operation).';
    }
  }
  return null;
}

/**
 * Applies the rules to one request: answers a refusal (403 FORBIDDEN, in the GraphQL or REST error shape as the
 * path implies) or a preflight itself and returns true; otherwise adds the CORS headers a listed origin gets and
 * returns false, and the request goes on to its route.
 */
export function guardBrowser(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  rules: BrowserRules,
  correlationId: string,
): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) res.setHeader('Vary', 'Origin');
  const refusal = refusalOf(req, path, rules);
  if (refusal) {
    refuse(res, path, refusal, correlationId);
    return true;
  }
  if (origin === undefined || !rules.origins.has(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  const requested = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || requested === undefined) {
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    return false;
  }
  const headers = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const unknown = headers.filter((h) => !ALLOWED_HEADERS.includes(h));
  if (!ALLOWED_METHODS.includes(requested) || unknown.length > 0) {
    res.removeHeader('Access-Control-Allow-Origin');
    const asked = [requested, ...unknown].join(', ').slice(0, 200);
    refuse(res, path, `Vigil does not use ${asked} across origins.`, correlationId);
    return true;
  }
  res.writeHead(204, {
    'Access-Control-Allow-Methods': ALLOWED_METHODS.join(', '),
    'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
    'Access-Control-Max-Age': '600',
    // Chrome's Private Network Access: a listed public page may call a Vigil on loopback or a private network.
    ...(req.headers['access-control-request-private-network'] === 'true' && {
      'Access-Control-Allow-Private-Network': 'true',
    }),
  });
  res.end();
  return true;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // `null` (sandboxed frames, file: pages) or garbage
  }
}

function refuse(res: ServerResponse, path: string, detail: string, correlationId: string): void {
  writeReply(res, refusalReply(path, new VigilError('FORBIDDEN', detail), correlationId));
}
