import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Authenticator, OpenAccess } from './access/authenticate.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import type { DomainContext } from './domain/context.js';
import { configureLimits } from './domain/inputs.js';
import { ChangeFeed } from './feed/feed.js';
import { configureCapacity } from './feed/limits.js';
import { type FeedTransport, LocalTransport, PgTransport } from './feed/transport.js';
import { createGraphQL } from './graphql/yoga.js';
import { startSweeper } from './jobs/sweeper.js';
import { createLogger, type Logger } from './log.js';
import { createDashboard } from './ui/serve.js';

export interface VigilServer {
  url: string;
  port: number;
  host: string;
  database: Database;
  feed: ChangeFeed;
  domain: DomainContext;
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

/** The composition root: database → domain → change feed → GraphQL/REST edges → one HTTP server. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<VigilServer> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  configureLimits({ jsonField: config.VIGIL_JSON_FIELD_LIMIT });
  configureCapacity({ waiters: config.VIGIL_MAX_WAITERS, streams: config.VIGIL_MAX_STREAMS });

  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.VIGIL_DATA_DIR }));
  const transport: FeedTransport =
    database.kind === 'postgres' && config.DATABASE_URL
      ? PgTransport.fromNotifier(database.notifier, config.DATABASE_URL)
      : new LocalTransport();
  const feed = new ChangeFeed(database.db, transport, log, config.VIGIL_RECHECK_INTERVAL_MS);
  const domain: DomainContext = { db: database.db, sink: feed, now: () => new Date(), hooks: [] };
  await feed.start();
  const stopSweeper = startSweeper(domain, config.VIGIL_SWEEP_INTERVAL_MS, log);

  const auth = options.auth ?? new OpenAccess();
  const yoga = createGraphQL({ db: database.db, domain, feed, auth, log });
  const dashboard = createDashboard();
  let shuttingDown = false;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const sent = req.headers['x-correlation-id'];
    const correlationId = typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
    res.setHeader('X-Correlation-Id', correlationId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/graphql' || path.startsWith('/graphql/')) {
      void yoga.handle(req, res, { correlationId });
      return;
    }
    if (dashboard(req, res, path)) return;
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      void database.ping().then((dbUp) => {
        const listening = feed.listening;
        const ready = dbUp && listening && !shuttingDown;
        json(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'unavailable',
          database: dbUp ? 'up' : 'down',
          changeFeed: listening ? 'listening' : 'down',
          ...(shuttingDown && { shuttingDown: true }),
        });
      });
      return;
    }
    json(res, 404, {
      detail: 'Not Found',
      error_code: 'NOT_FOUND',
      correlation_id: correlationId,
      timestamp: new Date().toISOString(),
    });
  };

  const server: Server = createHttpServer({ keepAliveTimeout: 65_000 }, handle);
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
      await stopSweeper();
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
    log,
    close,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
