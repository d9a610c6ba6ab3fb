import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import type { Authenticator } from '../access/authenticate.js';
import type { Db } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import type { DomainContext } from '../domain/context.js';
import type { ChangeFeed } from '../feed/feed.js';
import { type CancelSignal, responseClosed } from '../feed/wait.js';
import { type ErrorLogger, graphqlErrorReply, toClientError, withoutHttp } from '../http/graphql-errors.js';
import type { GraphQLContext } from './context.js';
import type { DocumentCache } from './documents.js';
import { type GraphQLParams, headerOf } from './http.js';
import type { VigilYoga } from './yoga.js';

export type MediaType = 'application/json' | 'application/graphql-response+json';

export interface LeanPathDeps {
  yoga: VigilYoga;
  documents: DocumentCache;
  db: Db;
  domain: DomainContext;
  feed: ChangeFeed;
  auth: Authenticator;
  log: ErrorLogger;
}

/**
 * The hot path for queries and mutations over POST /graphql with a JSON body: documents are parsed and validated
 * once (through yoga's own validation, so every limit applies) and compiled with graphql-jit; each request then
 * costs one JSON.parse, one compiled execution and one stringify, without the fetch-API layer. The dispatcher
 * (`dispatch.ts`) decides what comes here; variables that do not coerce (nothing ran) return false, and the
 * dispatcher hands the request to yoga, so the answers are the same; a differential test keeps them so.
 */
export function createFastPath(deps: LeanPathDeps) {
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
    params: GraphQLParams,
    compiled: CompiledQuery,
    media: MediaType,
    correlationId: string,
    remoteAddress: string,
    mutation = false,
  ): Promise<boolean> {
    let context: GraphQLContext;
    try {
      const principal = await deps.auth.authenticate((name) => headerOf(req, name), remoteAddress);
      context = new FastContext(principal, correlationId, res, deps);
    } catch (err) {
      const reply = graphqlErrorReply(err, correlationId, deps.log, { contentType: `${media}; charset=utf-8` });
      const { 'content-type': _type, ...extra } = reply.headers;
      send(res, reply.status, media, reply.body, extra);
      return true;
    }
    const woken = deps.feed.stats.woken;
    const result = (await compiled.query(undefined, context, params.variables ?? {})) as ExecutionResult;
    if (!('data' in result)) return false; // variables did not coerce: nothing ran
    // What a mutation's commit woke in this process (waits answered, stream frames) is written in this turn's
    // microtasks, each a few steps behind the mutation's own; its answer waits for the end of them (the check phase of
    // this same loop turn), so that the waiters' answers reach their sockets first, as a bare handler writes them.
    // A commit that woke nothing here (ingest with no one watching) answers at once.
    if (mutation && deps.feed.stats.woken !== woken) await new Promise<void>((resolve) => setImmediate(resolve));
    if (result.errors?.length) {
      const errors = result.errors.map((e) => toClientError(e, correlationId, deps.log));
      const { status, headers, shown } = responseOf(errors);
      send(res, status, media, JSON.stringify({ data: result.data, errors: shown }), headers);
      return true;
    }
    send(res, 200, media, compiled.stringify(result));
    return true;
  };
}

/** A request's context on the fast path: one object per request, no closures; `signal` is made on first use. */
class FastContext implements GraphQLContext {
  readonly domain: DomainContext;
  readonly feed: ChangeFeed;
  readonly db: Db;
  private closed: CancelSignal | undefined;

  constructor(
    readonly principal: Principal,
    readonly correlationId: string,
    private readonly res: ServerResponse,
    deps: LeanPathDeps,
  ) {
    this.domain = deps.domain;
    this.feed = deps.feed;
    this.db = deps.db;
  }

  /** Aborted when the client goes away (a wait needs it; most requests never look). */
  get signal(): CancelSignal {
    this.closed ??= responseClosed(this.res);
    return this.closed;
  }
}

/**
 * As yoga does for errors that carry `extensions.http` (SERVICE_UNAVAILABLE): the highest status among them and their
 * headers (Retry-After) for the response, and the errors without that extension for the body.
 */
function responseOf(errors: GraphQLError[]): { status: number; headers: Record<string, string>; shown: unknown[] } {
  let status = 200;
  const headers: Record<string, string> = {};
  const shown = errors.map((error) => {
    const http = error.extensions?.http as { status?: number; headers?: Record<string, string> } | undefined;
    if (!http) return error;
    if (http.status && http.status > status) status = http.status;
    Object.assign(headers, http.headers);
    return withoutHttp(error);
  });
  return { status, headers, shown };
}

/** As yoga does: the first of the two JSON media types the Accept header names; `*` / none → application/json. */
export function negotiate(accept: string | undefined): MediaType | null {
  if (!accept) return 'application/json';
  if (accept === lastAccept) return lastMedia;
  lastMedia = mediaOf(accept);
  lastAccept = accept;
  return lastMedia;
}

/** The last Accept header seen and its answer: a client sends the same one on every request. */
let lastAccept: string | undefined;
let lastMedia: MediaType | null = null;

function mediaOf(accept: string): MediaType | null {
  for (const part of accept.split(',')) {
    const type = part.split(';', 1)[0]?.trim().toLowerCase();
    if (type === 'application/graphql-response+json') return 'application/graphql-response+json';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'application/json';
  }
  return null;
}
