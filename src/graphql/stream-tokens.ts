import { randomUUID } from 'node:crypto';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Response as SseAnswer } from 'graphql-sse';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator } from '../access/authenticate.js';
import { requireLive, requireScope } from '../domain/access.js';
import { httpStatusOf, VigilError } from '../domain/errors.js';
import { type ErrorLogger, toClientError } from './errors.js';
import type { ServerContext } from './yoga.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TOKEN_QUERY = 'token';

export interface StreamTokenLimits {
  /** How long a reserved single-connection stream may wait for its event stream to be opened. */
  ttlMs: number;
  /** Live reservations (reserved or open) per API key, or per remote address with auth off. */
  perOwner: number;
}

interface Reservation {
  owner: string;
  opened: boolean;
  timer: NodeJS.Timeout;
}

/**
 * graphql-sse at `endpoint` (yoga's plugin, unchanged) with its single-connection reservations governed through the
 * library's own `authenticate` option: `PUT` needs the access subscribing needs (`executions:read`, a live key),
 * the token is ours (random, never the client's), a reservation not opened within `ttlMs` is closed, and an owner
 * (key, or address with auth off) holds at most `perOwner` of them (429 RATE_LIMITED past that). A request that
 * names a token that is unknown, expired or another owner's is 404 NOT_FOUND. Distinct-connection requests (no
 * token) pass as before.
 */
export function useStreamTokens(
  deps: { auth: Authenticator; log: ErrorLogger },
  limits: StreamTokenLimits,
  endpoint = '/graphql/stream',
): Plugin {
  const reservations = new Map<string, Reservation>();
  const perOwner = new Map<string, number>();
  const contexts = new WeakMap<Request, ServerContext>();
  /** Requests this module makes itself to close an expired reservation. */
  const internal = new WeakSet<Request>();

  const release = (token: string) => {
    const r = reservations.get(token);
    if (!r) return;
    clearTimeout(r.timer);
    reservations.delete(token);
    const left = (perOwner.get(r.owner) ?? 1) - 1;
    if (left > 0) perOwner.set(r.owner, left);
    else perOwner.delete(r.owner);
  };

  const answer = (err: unknown, correlationId: string | undefined): SseAnswer => {
    const error = toClientError(err, correlationId, deps.log, true);
    const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
    const code = err instanceof VigilError ? err.code : 'INTERNAL';
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (err instanceof VigilError && err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
    const status = httpStatusOf(code);
    return [JSON.stringify({ errors: [{ message: error.message, extensions }] }), { status, statusText: '', headers }];
  };

  const ownerOf = async (raw: Request, context: ServerContext | undefined) => {
    const principal = await deps.auth.authenticate((name) => raw.headers.get(name), context?.remoteAddress);
    requireScope(principal, 'executions:read');
    requireLive(principal);
    return principal.keyId ?? `addr:${context?.remoteAddress ?? 'unknown'}`;
  };

  const graphqlSse = useGraphQLSSE({
    endpoint,
    authenticate: async (req) => {
      const raw = req.raw;
      const token = raw.headers.get(TOKEN_HEADER) ?? new URL(raw.url).searchParams.get(TOKEN_QUERY);
      if (internal.has(raw) && token) return token;
      const context = contexts.get(raw);
      try {
        if (req.method === 'PUT') {
          // graphql-sse answers 406 to these: nothing is reserved, so nothing is held.
          if (!['*/*', 'text/plain'].includes(req.headers.get('accept') || '*/*')) return randomUUID();
          const owner = await ownerOf(raw, context);
          const held = perOwner.get(owner) ?? 0;
          if (held >= limits.perOwner) {
            throw new VigilError(
              'RATE_LIMITED',
              `At most ${limits.perOwner} single-connection streams may be reserved or open per key at a time`,
              { retryAfter: Math.ceil(limits.ttlMs / 1000) },
            );
          }
          const fresh = randomUUID();
          const timer = setTimeout(() => expire(fresh), limits.ttlMs);
          timer.unref();
          reservations.set(fresh, { owner, opened: false, timer });
          perOwner.set(owner, held + 1);
          return fresh;
        }
        if (!token) return randomUUID(); // distinct-connection mode, as graphql-sse's own default
        const reservation = reservations.get(token);
        if (!reservation || reservation.owner !== (await ownerOf(raw, context))) {
          throw new VigilError(
            'NOT_FOUND',
            `Unknown or expired stream token (a reservation must be opened within ${limits.ttlMs / 1000} s): reserve a new one with PUT`,
          );
        }
        if (req.headers.get('accept') === 'text/event-stream' && !reservation.opened) {
          // The stream opens: it lives as long as its connection, and graphql-sse forgets it when that closes.
          reservation.opened = true;
          clearTimeout(reservation.timer);
          if (raw.signal.aborted) release(token);
          else raw.signal.addEventListener('abort', () => release(token), { once: true });
        }
        return token;
      } catch (err) {
        return answer(err, context?.correlationId);
      }
    },
  });

  /**
   * Closes a reservation nobody opened. graphql-sse keeps its streams private, so this opens the stream as a client
   * would and hangs up at once (an aborted request): graphql-sse then disposes of it and forgets the token.
   */
  const expire = (token: string) => {
    const r = reservations.get(token);
    if (!r || r.opened) return;
    release(token);
    const request = new Request(`http://localhost${endpoint}`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token },
      signal: AbortSignal.abort(),
    });
    internal.add(request);
    void Promise.resolve(
      graphqlSse.onRequest?.({
        request,
        serverContext: {},
        endResponse: (response: Response) => void response.body?.cancel().catch(() => {}),
      } as unknown as Parameters<NonNullable<typeof graphqlSse.onRequest>>[0]),
    ).catch((err) => deps.log.error({ err }, 'closing an expired stream reservation failed'));
  };

  return {
    onYogaInit: (payload) => graphqlSse.onYogaInit?.(payload),
    onRequest: (payload) => {
      contexts.set(payload.request, payload.serverContext as unknown as ServerContext);
      return graphqlSse.onRequest?.(payload);
    },
  };
}
