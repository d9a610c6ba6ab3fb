import { type DocumentNode, print } from '@0no-co/graphql.web';
import {
  type ClientOptions,
  type Operation,
  reattachDelay,
  type StreamSink,
  VigilApiError,
  VigilClient,
} from '../client.js';
import type { ResultOf, TadaDocumentNode, VariablesOf } from './graphql.js';

// biome-ignore lint/suspicious/noExplicitAny: any typed document
export type Doc = TadaDocumentNode<any, any>;

const texts = new WeakMap<object, string>();
/** A document's text as sent (printed once per document). */
export function textOf(doc: DocumentNode): string {
  let text = texts.get(doc);
  if (text === undefined) {
    text = print(doc);
    texts.set(doc, text);
  }
  return text;
}

/**
 * What a request names for a document: the id of a persisted document (one with a `documentId`, as gql.tada's
 * `graphql.persisted` makes them and the dashboard's build leaves its documents), else its text.
 */
export function operationOf(doc: DocumentNode): Operation {
  const documentId = (doc as { documentId?: unknown }).documentId;
  return typeof documentId === 'string' ? { documentId } : textOf(doc);
}

/** One typed request over a client: the result's type is inferred from the document (the CLI's and the dashboard's too). */
export function query<D extends Doc>(
  client: VigilClient,
  doc: D,
  variables: VariablesOf<D>,
  signal?: AbortSignal,
): Promise<ResultOf<D>> {
  return client.request<ResultOf<D>>(operationOf(doc), variables as Record<string, unknown>, signal);
}

/** One typed subscription over a client: its events' type is inferred from the document (the CLI's and dashboard's too). */
export function subscribe<D extends Doc>(
  client: VigilClient,
  doc: D,
  variables: VariablesOf<D>,
  sink: StreamSink<ResultOf<D>>,
): () => void {
  return client.subscribe(operationOf(doc), variables as Record<string, unknown>, sink);
}

/** Failures worth sending again: the server was unreachable or the connection dropped, or it asked to come back. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof VigilApiError)) return false;
  return (
    err.code === 'CONNECTION' ||
    err.code === 'SERVICE_UNAVAILABLE' ||
    err.code === 'RATE_LIMITED' ||
    /^HTTP_50[234]$/.test(err.code)
  );
}

export interface RetryOptions {
  /** Give up after this long of transient failures (ms); default 30 s. */
  retryForMs?: number;
  signal?: AbortSignal | undefined;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });

/** Backoff with jitter: 100 ms doubling to 2 s, each delay 50–100 % of its step. */
export const backoff = (attempt: number) => Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);

/** Typed GraphQL over the shared client: results inferred from the document, transient failures retried. */
export class Transport {
  readonly client: VigilClient;
  constructor(options: ClientOptions) {
    this.client = new VigilClient(options);
  }

  request<D extends Doc>(doc: D, variables: VariablesOf<D>, signal?: AbortSignal): Promise<ResultOf<D>> {
    return query(this.client, doc, variables, signal);
  }

  /** `request`, sent again after a transient failure (only for requests that are safe to repeat). */
  async retrying<D extends Doc>(doc: D, variables: VariablesOf<D>, options: RetryOptions = {}): Promise<ResultOf<D>> {
    const until = Date.now() + (options.retryForMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(doc, variables, options.signal);
      } catch (err) {
        if (!isTransient(err) || Date.now() >= until || options.signal?.aborted) throw err;
        await sleep(backoff(attempt), options.signal);
      }
    }
  }

  subscribe<D extends Doc>(doc: D, variables: VariablesOf<D>, sink: StreamSink<ResultOf<D>>): () => void {
    return subscribe(this.client, doc, variables, sink);
  }
}

export { reattachDelay, VigilApiError };
