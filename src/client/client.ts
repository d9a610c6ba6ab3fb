import { createClient, NetworkError, type RequestParams } from 'graphql-sse';
import { requestOf } from './persisted.js';

/**
 * A small client of Vigil's public API (API.md §2, §5), shared by the dashboard (in the browser) and the `vigil`
 * CLI (in Node): GraphQL over HTTP for queries and mutations, graphql-sse (distinct connections, stateless, so any
 * instance can serve a re-attach) for subscriptions. It imports nothing from the server: it is the proof that the
 * public API is enough.
 */
export interface ClientOptions {
  /** Base URL of a Vigil server, e.g. `http://127.0.0.1:4000` (no trailing `/graphql`). */
  url: string;
  /** API key, sent as `Authorization: Bearer <key>`; none with auth off. */
  key?: string | undefined;
  /** `test` or `live`, sent as `X-Environment`; none lets the server pick the key's own. */
  environment?: string | undefined;
}

/**
 * Every failure a caller may see: a Vigil error code from API.md §4 (`UNAUTHORIZED`, `EXECUTION_NOT_FOUND`, …),
 * `CONNECTION` when the server could not be reached or the connection dropped, `GRAPHQL` for an invalid document,
 * or `HTTP_<status>` for an answer that is not GraphQL at all.
 */
export class VigilApiError extends Error {
  override name = 'VigilApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** How long to wait before re-attach number `attempt` (0, 1, …): 250 ms, doubling, at most `maxMs`. */
export function reattachDelay(attempt: number, maxMs = 5000): number {
  return Math.min(maxMs, 250 * 2 ** attempt);
}

export interface StreamSink<T> {
  /** The server accepted the subscription and the stream is open. */
  connected?(): void;
  next(data: T): void;
  /** The stream failed; it will not call `complete`. */
  error(err: VigilApiError): void;
  /** The server completed the stream (at a terminal event, at its timeout, or when it shuts down). */
  complete(): void;
}

/** What a request names: a document's text, or the id of a persisted document the server has (trusted documents). */
export type Operation = string | { documentId: string };

interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: unknown };
}

export class VigilClient {
  readonly url: string;
  private sse: ReturnType<typeof createClient> | null = null;

  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '').replace(/\/graphql$/, '');
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.options.key) h.authorization = `Bearer ${this.options.key}`;
    if (this.options.environment) h['x-environment'] = this.options.environment;
    return h;
  }

  /** Runs a query or mutation; resolves with `data` or throws a {@link VigilApiError}. */
  async request<T>(query: Operation, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers: {
          ...this.headers(),
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
        },
        body: JSON.stringify(requestOf(query, variables)),
        signal: signal ?? null,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw connectionError(this.url, err);
    }
    let body: { data?: T | null; errors?: GraphQLErrorLike[] };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof SyntaxError || res.status >= 400) throw httpError(res.status);
      throw connectionError(this.url, err);
    }
    const first = body.errors?.[0];
    if (first) throw fromGraphQLError(first, res.status);
    if (!res.ok || body.data == null) throw httpError(res.status);
    return body.data;
  }

  /**
   * Subscribes over graphql-sse. Never retries by itself: a caller that re-attaches knows its cursor (`after`)
   * and passes it, so nothing is replayed twice. Returns a function that ends the subscription.
   */
  subscribe<T>(query: Operation, variables: Record<string, unknown>, sink: StreamSink<T>): () => void {
    this.sse ??= createClient({
      url: `${this.url}/graphql/stream`,
      headers: () => this.headers(),
      retryAttempts: 0,
    });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      fn();
    };
    const dispose = this.sse.subscribe<T>(
      // graphql-sse sends the request object as it is: a persisted document goes as its id, without `query`
      requestOf(query, variables) as RequestParams,
      {
        next: (result) => {
          if (done) return;
          const first = (result.errors as readonly GraphQLErrorLike[] | undefined)?.[0];
          if (first) {
            finish(() => sink.error(fromGraphQLError(first)));
            dispose();
          } else if (result.data != null) {
            sink.next(result.data as T);
          }
        },
        error: (err) => {
          void toApiError(this.url, err).then((e) => finish(() => sink.error(e)));
        },
        complete: () => finish(() => sink.complete()),
      },
      {
        connected: () => {
          if (!done) sink.connected?.();
        },
      },
    );
    return () => {
      done = true;
      dispose();
    };
  }

  /** Ends every open subscription and lets the process exit. */
  close(): void {
    this.sse?.dispose();
    this.sse = null;
  }
}

function fromGraphQLError(e: GraphQLErrorLike, status?: number): VigilApiError {
  const code = typeof e.extensions?.code === 'string' ? e.extensions.code : 'GRAPHQL';
  return new VigilApiError(code, e.message, status);
}

function httpError(status: number): VigilApiError {
  if (status === 401) return new VigilApiError('UNAUTHORIZED', 'An API key is required', status);
  return new VigilApiError(`HTTP_${status}`, `Unexpected answer from Vigil (HTTP ${status})`, status);
}

function connectionError(url: string, err: unknown): VigilApiError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new VigilApiError('CONNECTION', `cannot reach Vigil at ${url} (${detail})`);
}

/** graphql-sse reports a refused subscribe as a NetworkError carrying the response, whose body has the codes. */
async function toApiError(url: string, err: unknown): Promise<VigilApiError> {
  if (Array.isArray(err) && err[0]) return fromGraphQLError(err[0] as GraphQLErrorLike);
  if (err instanceof NetworkError && err.response) {
    const res = err.response as unknown as Response;
    try {
      const body = (await res.json()) as { errors?: GraphQLErrorLike[] };
      if (body.errors?.[0]) return fromGraphQLError(body.errors[0], res.status);
    } catch {
      // not a GraphQL body; the status tells
    }
    return httpError(res.status);
  }
  return connectionError(url, err);
}
