import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionResult, type GraphQLError, getOperationAST, parse } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Authenticator } from '../access/authenticate.js';
import type { Db } from '../db/client.js';
import type { DomainContext } from '../domain/context.js';
import { httpStatusOf, VigilError } from '../domain/errors.js';
import type { ChangeFeed } from '../feed/feed.js';
import { DOCUMENT_LIMITS } from './armor.js';
import type { GraphQLContext } from './context.js';
import { type ErrorLogger, toClientError } from './errors.js';
import type { VigilYoga } from './yoga.js';

type MediaType = 'application/json' | 'application/graphql-response+json';

interface Prepared {
  compiled: CompiledQuery;
}

export interface FastPathDeps {
  yoga: VigilYoga;
  db: Db;
  domain: DomainContext;
  feed: ChangeFeed;
  auth: Authenticator;
  log: ErrorLogger;
}

const CACHE_SIZE = 1000;
const FALLBACK = 'fallback' as const;

/**
 * The hot path for queries and mutations over POST /graphql with a JSON body: documents are parsed and validated
 * once (through yoga's own parse and validate, so every limit and plugin applies) and compiled with graphql-jit;
 * each request then costs one JSON.parse, one compiled execution and one stringify, without the fetch-API layer.
 * Anything else — GET, SSE, subscriptions, invalid documents, bad variables — goes to yoga unchanged, so the
 * answers are the same; a differential test keeps them so.
 */
export function createFastPath(deps: FastPathDeps) {
  const cache = new Map<string, Prepared | typeof FALLBACK>();

  const prepare = (query: string, operationName: string | undefined): Prepared | typeof FALLBACK => {
    const key = operationName ? `${operationName}\u0000${query}` : query;
    const hit = cache.get(key);
    if (hit) return hit;
    let prepared: Prepared | typeof FALLBACK = FALLBACK;
    try {
      // Parse here (graphql's own token limit is the one armor enforces); validate through yoga's envelop so its
      // rules (armor's depth, aliases, directives) apply. Any error: yoga answers, from its own caches.
      const document = parse(query, { maxTokens: DOCUMENT_LIMITS.tokens });
      const enveloped = deps.yoga.getEnveloped({ params: { query, operationName } } as never);
      const errors = enveloped.validate(enveloped.schema, document) as readonly GraphQLError[];
      const operation = errors.length === 0 ? getOperationAST(document, operationName) : null;
      if (operation && operation.operation !== 'subscription') {
        const compiled = compileQuery(enveloped.schema, document, operationName);
        if (isCompiledQuery(compiled)) prepared = { compiled };
      }
    } catch {
      prepared = FALLBACK; // yoga will answer with the precise error
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, prepared);
    return prepared;
  };

  /** Answers from yoga with a body already read (never after a document ran: no double execution). */
  const viaYoga = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    correlationId: string,
    remoteAddress: string,
  ) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await deps.yoga.fetch(
      `http://localhost${req.url ?? '/graphql'}`,
      { method: req.method ?? 'POST', headers, body: new Uint8Array(body) } as RequestInit,
      { correlationId, remoteAddress },
    );
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      out[k] = v;
    });
    res.writeHead(response.status, out);
    if (!response.body) return void res.end();
    const reader = response.body.getReader(); // streamed: a subscription answered here is an event stream
    res.once('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  };

  const send = (
    res: ServerResponse,
    status: number,
    media: MediaType,
    text: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      'content-type': `${media}; charset=utf-8`,
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  };

  return async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    correlationId: string,
    remoteAddress: string,
  ) {
    const media = req.method === 'POST' && isJson(req.headers['content-type']) ? negotiate(req.headers.accept) : null;
    if (!media) {
      await deps.yoga.handle(req, res, { correlationId, remoteAddress });
      return;
    }
    const body = await readBody(req);
    let params: { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown };
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return viaYoga(req, res, body, correlationId, remoteAddress);
    }
    const { query, variables, operationName } = params ?? {};
    if (
      typeof query !== 'string' ||
      Array.isArray(params) ||
      (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) ||
      (operationName != null && typeof operationName !== 'string') ||
      (params.extensions != null && Object.keys(params.extensions as object).length > 0)
    ) {
      return viaYoga(req, res, body, correlationId, remoteAddress);
    }
    const prepared = prepare(query, operationName ?? undefined);
    if (prepared === FALLBACK) return viaYoga(req, res, body, correlationId, remoteAddress);

    let context: GraphQLContext;
    const aborted = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    try {
      const principal = await deps.auth.authenticate((name) => headerOf(req, name), remoteAddress);
      context = { principal, correlationId, signal: aborted.signal, domain: deps.domain, feed: deps.feed, db: deps.db };
    } catch (err) {
      const error = toClientError(err, correlationId, deps.log, true);
      const status = err instanceof VigilError ? httpStatusOf(err.code) : 500;
      const retry =
        err instanceof VigilError && err.retryAfter !== undefined
          ? { 'retry-after': String(err.retryAfter) }
          : undefined;
      const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
      return send(res, status, media, JSON.stringify({ errors: [{ message: error.message, extensions }] }), retry);
    }
    const result = (await prepared.compiled.query(
      undefined,
      context,
      (variables ?? {}) as Record<string, unknown>,
    )) as ExecutionResult;
    if (!('data' in result)) {
      return viaYoga(req, res, body, correlationId, remoteAddress); // variables did not coerce: nothing ran
    }
    if (result.errors?.length) {
      const errors = result.errors.map((e) => toClientError(e, correlationId, deps.log));
      return send(res, 200, media, JSON.stringify({ data: result.data, errors }));
    }
    return send(res, 200, media, prepared.compiled.stringify(result));
  };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const base = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return base === 'application/json';
}

/** As yoga does: the first of the two JSON media types the Accept header names; `*` / none → application/json. */
export function negotiate(accept: string | undefined): MediaType | null {
  if (!accept) return 'application/json';
  for (const part of accept.split(',')) {
    const type = part.split(';', 1)[0]?.trim().toLowerCase();
    if (type === 'application/graphql-response+json') return 'application/graphql-response+json';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'application/json';
  }
  return null;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
