import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

/** `npm start`: serve until SIGTERM/SIGINT, then shut down cleanly within the grace period. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
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
  const where =
    server.database.kind === 'pglite'
      ? `PGlite at ${server.database.location}`
      : `PostgreSQL ${server.database.location}`;
  log.info(
    { url: server.url, database: server.database.kind, data: server.database.location, auth: config.VIGIL_AUTH },
    `Vigil listening on ${server.url} — dashboard ${server.url}/, GraphQL + GraphiQL ${server.url}/graphql, graphql-sse ${server.url}/graphql/stream, ` +
      `REST ${server.url}/api/v1 (reference ${server.url}/docs, OpenAPI ${server.url}/openapi.json), ` +
      `health ${server.url}/healthz, readiness ${server.url}/readyz; data in ${where}`,
  );
  if (config.VIGIL_AUTH === 'off') {
    log.warn(
      { auth: 'off' },
      `Auth is off: every request acts as organization "default" with every scope. That is allowed on loopback ` +
        `(${config.HOST}) only; set VIGIL_AUTH=on and create keys with \`npx vigil keys create\` to require API keys.`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
