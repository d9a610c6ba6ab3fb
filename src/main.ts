import { loadConfig } from './config.js';
import { isKnownDriverFault } from './db/faults.js';
import { createProcessLogger, isPretty, type Logger } from './log.js';
import type { VigilServer } from './server.js';

/** `npm start`: serve until SIGTERM/SIGINT, then shut down cleanly within the grace period. */
async function main(): Promise<void> {
  const config = loadConfig();
  const pretty = isPretty(config.LOG_FORMAT);
  const log = await createProcessLogger(config.LOG_LEVEL, pretty);
  process.on('uncaughtException', (err) => {
    if (isKnownDriverFault(err)) {
      log.warn(
        { err },
        'a known fault of the database driver while a connection closed (porsager/postgres#1208, #1192); ignored',
      );
      return;
    }
    log.error({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  // imported once the configuration is known good: a bad setting is reported without loading the server
  const { startServer } = await import('./server.js');
  const server = await startServer(config, { log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error({}, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.VIGIL_SHUTDOWN_GRACE_MS + 5000);
    force.unref();
    server.close().then(
      () => {
        log.info({}, 'stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced only once the handlers are in: whoever waits for this line may send SIGTERM at once (a signal
  // before its handler would kill the process without a clean shutdown).
  if (pretty) announceForPeople(log, server, config.VIGIL_AUTH, config.HOST);
  else announceAsJson(log, server, config.VIGIL_AUTH, config.HOST);
}

function where(server: VigilServer): string {
  return server.database.kind === 'pglite'
    ? `PGlite at ${server.database.location}`
    : `PostgreSQL ${server.database.location}`;
}

const authOff = (host: string) =>
  `Auth is off: every request acts as organization "default" with every scope. That is allowed on loopback ` +
  `(${host}) only; set VIGIL_AUTH=on and create keys with \`npx vigil keys create\` to require API keys.`;

/** JSON lines: one structured line a machine can read (the URL in `url`), and the auth warning. */
function announceAsJson(log: Logger, server: VigilServer, auth: string, host: string): void {
  const u = server.url;
  log.info(
    { url: u, database: server.database.kind, data: server.database.location, auth },
    `Vigil listening on ${u} — dashboard ${u}/, GraphQL + GraphiQL ${u}/graphql, graphql-sse ${u}/graphql/stream, ` +
      `REST ${u}/api/v1 (reference ${u}/docs, OpenAPI ${u}/openapi.json), ` +
      `health ${u}/healthz, readiness ${u}/readyz; data in ${where(server)}`,
  );
  if (auth === 'off') log.warn({ auth: 'off' }, authOff(host));
}

/** On a terminal: a short block with the URLs a person opens, the data and the mode. */
function announceForPeople(log: Logger, server: VigilServer, auth: string, host: string): void {
  const u = server.url;
  const rows: [string, string][] = [
    ['Dashboard', `${u}/`],
    ['GraphQL', `${u}/graphql  (GraphiQL in a browser; SSE at /graphql/stream)`],
    ['REST', `${u}/api/v1  (reference ${u}/docs)`],
    ['Metrics', `${u}/metrics  (health /healthz, readiness /readyz)`],
    ['Data', where(server)],
    [
      'Auth',
      auth === 'off' ? `off: loopback only (${host}); VIGIL_AUTH=on to require API keys` : 'on: API keys required',
    ],
  ];
  const block = rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`).join('\n');
  log.info(`Vigil ready in ${process.uptime().toFixed(1)} s\n${block}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
