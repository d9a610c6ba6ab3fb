import { randomUUID } from 'node:crypto';
import type { Request as SseRequest } from 'graphql-sse';
import { type Principal, requireLive, requireScope } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';

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

/** Who a request is, as the graphql-sse edge knows it once it has authenticated the request. */
export interface StreamCaller {
  principal?: Principal;
  remoteAddress?: string;
}

/**
 * graphql-sse's single-connection reservations, governed through the library's own `authenticate` option: `PUT`
 * needs the access subscribing needs (`executions:read`, a live key), the token is ours (random, never the
 * client's), a reservation not opened within `ttlMs` is closed, and an owner (key, or address with auth off) holds
 * at most `perOwner` of them (429 RATE_LIMITED past that). A request that names a token that is unknown, expired or
 * another owner's is 404 NOT_FOUND. Distinct-connection requests (no token) get a fresh one, as graphql-sse's default.
 * Errors are thrown as VigilErrors; the edge answers them.
 */
export class StreamTokens {
  private readonly reservations = new Map<string, Reservation>();
  private readonly perOwner = new Map<string, number>();
  /** Requests this module makes itself to close an expired reservation. */
  private readonly internal = new WeakSet<Request>();
  /** graphql-sse's handler, to close a reservation nobody opened. */
  private handler: ((request: Request) => Promise<Response>) | undefined;

  constructor(
    private readonly limits: StreamTokenLimits,
    private readonly endpoint: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  attach(handler: (request: Request) => Promise<Response>): void {
    this.handler = handler;
  }

  /** The `authenticate` of graphql-sse's handler: the request's stream token, or a refusal thrown. */
  token(req: SseRequest<Request, unknown>, caller: StreamCaller): string {
    const raw = req.raw;
    const token = raw.headers.get(TOKEN_HEADER) ?? new URL(raw.url).searchParams.get(TOKEN_QUERY);
    if (this.internal.has(raw) && token) return token;
    if (req.method === 'PUT') {
      // graphql-sse answers 406 to these: nothing is reserved, so nothing is held.
      if (!['*/*', 'text/plain'].includes(req.headers.get('accept') || '*/*')) return randomUUID();
      return this.reserve(this.ownerOf(caller));
    }
    if (!token) return randomUUID(); // distinct-connection mode
    const reservation = this.reservations.get(token);
    if (!reservation || reservation.owner !== this.ownerOf(caller)) {
      throw new VigilError(
        'NOT_FOUND',
        `Unknown or expired stream token (a reservation must be opened within ${this.limits.ttlMs / 1000} s): reserve a new one with PUT`,
      );
    }
    if (req.headers.get('accept') === 'text/event-stream' && !reservation.opened) {
      // The stream opens: it lives as long as its connection, and graphql-sse forgets it when that closes.
      reservation.opened = true;
      clearTimeout(reservation.timer);
      if (raw.signal.aborted) this.release(token);
      else raw.signal.addEventListener('abort', () => this.release(token), { once: true });
    }
    return token;
  }

  private ownerOf(caller: StreamCaller): string {
    const principal = caller.principal;
    if (!principal) throw new VigilError('UNAUTHORIZED', 'Authentication required');
    requireScope(principal, 'executions:read');
    requireLive(principal);
    return principal.keyId ?? `addr:${caller.remoteAddress ?? 'unknown'}`;
  }

  private reserve(owner: string): string {
    const held = this.perOwner.get(owner) ?? 0;
    if (held >= this.limits.perOwner) {
      throw new VigilError(
        'RATE_LIMITED',
        `At most ${this.limits.perOwner} single-connection streams may be reserved or open per key at a time`,
        { retryAfter: Math.ceil(this.limits.ttlMs / 1000) },
      );
    }
    const fresh = randomUUID();
    const timer = setTimeout(() => this.expire(fresh), this.limits.ttlMs);
    timer.unref();
    this.reservations.set(fresh, { owner, opened: false, timer });
    this.perOwner.set(owner, held + 1);
    return fresh;
  }

  private release(token: string): void {
    const r = this.reservations.get(token);
    if (!r) return;
    clearTimeout(r.timer);
    this.reservations.delete(token);
    const left = (this.perOwner.get(r.owner) ?? 1) - 1;
    if (left > 0) this.perOwner.set(r.owner, left);
    else this.perOwner.delete(r.owner);
  }

  /**
   * Closes a reservation nobody opened. graphql-sse keeps its streams private, so this opens the stream as a client
   * would and hangs up at once (an aborted request): graphql-sse then disposes of it and forgets the token.
   */
  private expire(token: string): void {
    const r = this.reservations.get(token);
    if (!r || r.opened) return;
    this.release(token);
    const handler = this.handler;
    if (!handler) return;
    const request = new Request(`http://localhost${this.endpoint}`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token },
      signal: AbortSignal.abort(),
    });
    this.internal.add(request);
    handler(request)
      .then((response) => response.body?.cancel())
      .catch(this.onError);
  }
}
