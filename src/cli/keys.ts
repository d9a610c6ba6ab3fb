import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Opens the server's database (same DATABASE_URL / VIGIL_DATA_DIR); on PGlite this fails while a server holds it.
 * The database code is imported here, when a keys command runs, so that the other commands never load it.
 */
export async function withDatabase<T>(fn: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openDatabase }] = await Promise.all([import('../config.js'), import('../db/client.js')]);
  const config = loadConfig();
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.VIGIL_DATA_DIR,
    poolSize: 2,
  });
  try {
    return await fn(database, config);
  } finally {
    await database.close();
  }
}

/** `vigil keys create|list|revoke` (API.md §5): API keys are managed where the database is, not over the API. */
export function registerKeysCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage API keys in the database the server uses (DATABASE_URL, or PGlite at VIGIL_DATA_DIR)');

  keys
    .command('create')
    .description('Create an API key; prints its secret once, alone on the last line')
    .requiredOption('--org <organization>', 'the organization the key acts for')
    .requiredOption('--env <environments>', 'comma-separated: test, live', list)
    .requiredOption('--scopes <scopes>', 'comma-separated: executions:read, executions:write, executions:admin', list)
    .option('--name <name>', 'a label to tell keys apart')
    .action(async (opts: { org: string; env: string[]; scopes: string[]; name?: string }) => {
      const { createApiKey } = await import('../access/keys.js');
      const { key, secret } = await withDatabase(({ db }, config) =>
        createApiKey(
          db,
          { organizationId: opts.org, environments: opts.env, scopes: opts.scopes, name: opts.name },
          { pepper: config.VIGIL_KEY_PEPPER },
        ),
      );
      process.stdout.write(
        [
          `Created API key ${key.id} for organization ${key.organizationId}`,
          `  environments: ${key.environments.join(', ')}`,
          `  scopes:       ${key.scopes.join(', ')}`,
          `  prefix:       ${key.prefix}`,
          'The secret below is shown only this once; store it now (send it as Authorization: Bearer <secret>):',
          secret,
          '',
        ].join('\n'),
      );
    });

  keys
    .command('list')
    .description('List API keys (never their secrets)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const { listApiKeys } = await import('../access/keys.js');
      const rows = await withDatabase(({ db }) => listApiKeys(db));
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify(
            rows.map(({ secretHash: _, ...k }) => k),
            null,
            2,
          )}\n`,
        );
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(
          'No API keys. Create one with: vigil keys create --org ORG --env test --scopes executions:read\n',
        );
        return;
      }
      for (const k of rows) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        const used = k.lastUsedAt ? k.lastUsedAt.toISOString() : 'never';
        process.stdout.write(
          `${k.id}  ${k.prefix}…  org=${k.organizationId}  env=${k.environments.join(',')}  ` +
            `scopes=${k.scopes.join(',')}  ${state}  last used ${used}${k.name ? `  "${k.name}"` : ''}\n`,
        );
      }
    });

  keys
    .command('revoke')
    .description('Revoke an API key: requests with it fail with 401 and its open streams end')
    .argument('<id>', 'the key id (from vigil keys list)')
    .action(async (id: string) => {
      const [{ revokeApiKey }, { CHANNEL }] = await Promise.all([
        import('../access/keys.js'),
        import('../feed/transport.js'),
      ]);
      const key = await withDatabase(async (database) => {
        const revoked = await revokeApiKey(database.db, id);
        if (revoked && database.notifier.kind === 'postgres') {
          // Running instances drop the key at once (they also re-check on their own within seconds).
          await database.notifier.sql`select pg_notify(${CHANNEL}, ${`! revoke ${revoked.id}`})`;
        }
        return revoked;
      });
      if (!key) throw Object.assign(new Error(`No API key ${id}`), { exitCode: 1 });
      process.stdout.write(`Revoked API key ${key.id} (${key.prefix}…) at ${key.revokedAt?.toISOString()}\n`);
    });
}
