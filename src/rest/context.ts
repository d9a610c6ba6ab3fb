import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Authenticator } from '../access/authenticate.js';
import type { Db } from '../db/client.js';
import type { Principal } from '../domain/access.js';
import type { DomainContext } from '../domain/context.js';
import type { InputLimits } from '../domain/inputs.js';
import type { ChangeFeed } from '../feed/feed.js';
import type { SseWriter } from '../http/sse.js';
import type { Logger } from '../log.js';

/** The services every REST adapter calls: the same ones GraphQL gets. */
export interface RestDeps {
  db: Db;
  domain: DomainContext;
  feed: ChangeFeed;
  auth: Authenticator;
  log: Logger;
  /** Bytes of one request body. */
  bodyLimit: number;
  /** The one SSE writer (framing, heartbeat, backpressure, shutdown) of event streams. */
  sse: SseWriter;
}

/** The REST edge's Hono app, as every adapter registers its routes on it. */
export type RestApp = OpenAPIHono<RestEnv>;

/** Hono's per-request environment: the correlation id from the HTTP layer, node's request and response, the caller. */
export interface RestEnv {
  Bindings: {
    correlationId: string;
    remoteAddress: string;
    incoming: IncomingMessage;
    outgoing: ServerResponse;
    /** The server's input limits, for bodies validated before the domain sees them. */
    limits: InputLimits | undefined;
  };
  Variables: { principal: Principal };
}
