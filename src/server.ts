import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Authenticator, KeyAccess, OpenAccess } from './access/authenticate.js';
import { protectedModeRefusal } from './access/protected-mode.js';
import { RateLimiter } from './access/rate-limit.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import type { DomainContext } from './domain/context.js';
import { VigilError, vigilErrorOf } from './domain/errors.js';
import { ChangeFeed } from './feed/feed.js';
import { Slots } from './feed/limits.js';
import { type FeedTransport, LocalTransport, PgTransport } from './feed/transport.js';
import { createGraphQLEdge } from './graphql/dispatch.js';
import { createDocumentCache } from './graphql/documents.js';
import { loadTrustedDocuments } from './graphql/persisted.js';
import { schema } from './graphql/schema.js';
import { createGraphQL } from './graphql/yoga.js';
import { bufferBody, declaredBodyRefusal, hasUnknownLength } from './http/body.js';
import { answerClientError } from './http/client-error.js';
import { graphqlErrorReply } from './http/graphql-errors.js';
import { browserRulesOf, guardBrowser } from './http/origin.js';
import { refusalReply } from './http/refusal.js';
import { writeReply } from './http/reply.js';
import { createSseWriter } from './http/sse.js';
import { startChangePruner } from './jobs/prune-changes.js';
import { startRetention } from './jobs/retention.js';
import { startSweeper } from './jobs/sweeper.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { createReadiness } from './readiness.js';
import { createRest, isRestPath } from './rest/app.js';
import { createLogFollower } from './rest/logs.js';
import { createDashboard } from './ui/serve.js';
import { installWebhooks, webhookConfigOf } from './webhooks/service.js';

export interface VigilServer {
  url: string;
  port: number;
  host: string;
  database: Database;
  feed: ChangeFeed;
  domain: DomainContext;
  auth: Authenticator;
  log: Logger;
  /** Stops accepting, answers open waits, ends streams, closes the database; bounded by the shutdown grace. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** An already open database (tests); otherwise opened from the config. */
  database?: Database;
  log?: Logger;
  auth?: Authenticator;
}

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** When a request started, on its response (a property, not a WeakMap entry: nothing for the collector to sweep). */
const STARTED = Symbol('startedAt');
type Timed = ServerResponse & { [STARTED]?: number };

/** The composition root: database → domain → change feed → GraphQL/REST edges → one HTTP server. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<VigilServer> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const refusal = protectedModeRefusal(config.HOST, config.VIGIL_AUTH);
  if (refusal) throw new Error(refusal);
  const trusted = loadTrustedDocuments(config.VIGIL_TRUSTED_DOCUMENTS);

  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.VIGIL_DATA_DIR }));
  const transport: FeedTransport =
    database.kind === 'postgres' && config.DATABASE_URL
      ? PgTransport.fromNotifier(database.notifier, config.DATABASE_URL)
      : new LocalTransport();
  const slots = new Slots({ waiters: config.VIGIL_MAX_WAITERS, streams: config.VIGIL_MAX_STREAMS });
  const feed = new ChangeFeed(database.db, transport, log, config.VIGIL_RECHECK_INTERVAL_MS, slots);
  const metrics = createMetrics(
    database.db,
    feed,
    () => graphql.stats,
    () => rest.app.routes.map((r) => r.path),
  );
  const domain: DomainContext = {
    db: database.db,
    sink: feed,
    now: () => new Date(),
    hooks: [],
    limits: { jsonField: config.VIGIL_JSON_FIELD_LIMIT, logBytes: config.VIGIL_LOG_LIMIT_BYTES },
    retentionDays: config.VIGIL_RETENTION_DAYS,
    onRecorded: metrics.eventsRecorded,
  };
  const webhooks = installWebhooks(domain, webhookConfigOf(config), log, metrics.registry);
  await feed.start();
  const stopSweeper = startSweeper(domain, config.VIGIL_SWEEP_INTERVAL_MS, log, metrics.sweeperMoved);
  const stopPruner = startChangePruner(database.db, config.VIGIL_CHANGES_RETENTION_HOURS, log);
  const stopRetention = startRetention(
    database.db,
    {
      days: config.VIGIL_RETENTION_DAYS,
      intervalMs: config.VIGIL_RETENTION_INTERVAL_MS,
      batch: config.VIGIL_RETENTION_BATCH,
      pauseFactor: config.VIGIL_RETENTION_PAUSE_FACTOR,
    },
    log,
    metrics.retentionDeleted,
  );

  const limiter = config.VIGIL_RATE_LIMIT
    ? new RateLimiter(
        config.VIGIL_RATE_LIMIT,
        config.VIGIL_RATE_BURST ?? Math.max(1, Math.ceil(config.VIGIL_RATE_LIMIT)),
      )
    : null;
  const auth =
    options.auth ??
    (config.VIGIL_AUTH === 'on'
      ? new KeyAccess(database.db, {
          limiter,
          cacheMs: config.VIGIL_KEY_CACHE_MS,
          recheckMs: config.VIGIL_KEY_RECHECK_MS,
          pepper: config.VIGIL_KEY_PEPPER,
          onError: (err) => log.warn({ err }, 'API key bookkeeping failed'),
        })
      : new OpenAccess(limiter));
  feed.onControl = (message) => {
    const revoked = /^revoke (\S+)$/.exec(message)?.[1];
    if (revoked && auth instanceof KeyAccess) auth.revoked(revoked);
  };
  const yoga = createGraphQL({
    db: database.db,
    domain,
    feed,
    auth,
    log,
    trusted,
    streamTokens: { ttlMs: config.VIGIL_SSE_RESERVATION_TTL_MS, perOwner: config.VIGIL_SSE_RESERVATIONS_PER_KEY },
  });
  const sse = createSseWriter({
    heartbeatMs: config.VIGIL_SSE_HEARTBEAT_MS,
    maxUnsentBytes: config.VIGIL_SSE_MAX_UNSENT_BYTES,
  });
  const graphql = createGraphQLEdge({
    yoga,
    documents: createDocumentCache(yoga),
    db: database.db,
    domain,
    feed,
    auth,
    log,
    schema,
    sse,
    lean: config.VIGIL_FAST_GRAPHQL === 'on',
    trusted,
  });
  const restDeps = { db: database.db, domain, feed, auth, log, bodyLimit: config.VIGIL_BODY_LIMIT, sse };
  const rest = createRest(restDeps);
  // Followed logs are held for minutes by the thousand: served on node:http, not through Hono's adapter.
  const followLogs = createLogFollower(restDeps);
  const dashboard = createDashboard();
  const browser = browserRulesOf(config);
  const readiness = createReadiness(database, domain, feed);
  let shuttingDown = false;

  /**
   * When each request started, for the one `close` listener every request shares (a held connection keeps no
   * closure over its request for its whole life): its metric and log line.
   */
  function requestClosed(this: Timed): void {
    const { req, statusCode: status } = this;
    const started = this[STARTED] ?? performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const correlationId = String(this.getHeader('x-correlation-id') ?? '');
    metrics.observeRequest(req.method ?? 'GET', path, status, (performance.now() - started) / 1000);
    if (status >= 500) log.warn({ correlationId, path, status }, 'request failed');
    else log.debug({ correlationId, method: req.method, path, status }, 'request');
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const sent = req.headers['x-correlation-id'];
    const correlationId = typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
    res.setHeader('X-Correlation-Id', correlationId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    (res as Timed)[STARTED] = performance.now();
    res.on('close', requestClosed);
    if (guardBrowser(req, res, path, browser, correlationId)) return;
    const refusal = declaredBodyRefusal(req, config.VIGIL_BODY_LIMIT);
    if (refusal) return writeReply(res, refusalReply(path, refusal, correlationId));
    if (!hasUnknownLength(req)) return dispatch(req, res, path, correlationId);
    bufferBody(req, config.VIGIL_BODY_LIMIT).then(
      (buffered) => dispatch(buffered, res, path, correlationId),
      (err) => {
        if (res.destroyed) return;
        const error = vigilErrorOf(err) ?? new VigilError('VALIDATION_FAILED', 'The request body could not be read');
        res.setHeader('connection', 'close');
        writeReply(res, refusalReply(path, error, correlationId));
      },
    );
  };

  /** Hands a request whose body is within the limit to its edge. */
  const dispatch = (req: IncomingMessage, res: ServerResponse, path: string, correlationId: string) => {
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    if (path === '/graphql' || path.startsWith('/graphql/')) {
      graphql.handle(req, res, path, correlationId, remoteAddress).catch((err) => failed(res, err, correlationId));
      return;
    }
    if (isRestPath(path)) {
      if (!followLogs(req, res, path, correlationId, remoteAddress)) rest.handle(req, res, correlationId);
      return;
    }
    if (dashboard(req, res, path)) return;
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/metrics') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (path === '/readyz') {
      void readiness(shuttingDown).then(({ ready, body }) => json(res, ready ? 200 : 503, body));
      return;
    }
    writeReply(res, refusalReply(path, new VigilError('NOT_FOUND', 'Not Found'), correlationId));
  };

  /** The GraphQL edge failed before it answered: the GraphQL error reply (a fault is logged once, there). */
  const failed = (res: ServerResponse, err: unknown, correlationId: string) => {
    const reply = graphqlErrorReply(err, correlationId, log);
    if (res.headersSent) return void res.destroy();
    writeReply(res, reply);
  };

  const server: Server = createHttpServer({ keepAliveTimeout: 65_000 }, handle);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await feed.close(); // waits answer with the current state, streams end (clients re-attach with their cursor)
      sse.closeAll(); // and any stream still open ends with its end frame
      sse.stop();
      await stopSweeper();
      await stopPruner();
      await stopRetention();
      await webhooks.stop();
      if (auth instanceof KeyAccess) auth.stop();
      limiter?.stop();
      const grace = new Promise<void>((resolve) =>
        setTimeout(resolve, Math.min(config.VIGIL_SHUTDOWN_GRACE_MS, 2000)).unref(),
      );
      server.closeIdleConnections();
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      await closed;
      await database.close();
    })();
    return closing;
  };

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    host: address.address,
    database,
    feed,
    domain,
    auth,
    log,
    close,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
