/**
 * `npx tsx bench/explain-retention.ts`: where a retention batch's time goes. Starts a PostgreSQL, migrates, seeds
 * BACKLOG (default 5,000) due executions of 20 events as the retention bench does, then runs `deleteDueBatch` of
 * BATCH (default 500) trees a few times with auto_explain on (every statement, nested ones and triggers included,
 * with its timing), printing each plan and each batch's wall time. Stops what it started.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Executor } from '../src/db/client.js';
import { openDatabase } from '../src/db/client.js';
import { deleteDueBatch } from '../src/domain/retention.js';
import { startPostgres } from '../test/support/postgres.js';
import { seedBacklog } from './retention.js';

const log = (m: string) => process.stderr.write(`[explain] ${m}\n`);
const pg = await startPostgres({ durable: true });
try {
  const database = await openDatabase({ databaseUrl: pg.url, poolSize: 2 });
  if (database.notifier.kind !== 'postgres') throw new Error('needs PostgreSQL');
  const admin = database.notifier.sql;
  await seedBacklog(admin, Number(process.env.BACKLOG ?? 5000));
  await admin`vacuum analyze`;
  const plans = process.env.PLANS !== '0';
  const sql = postgres(pg.url, {
    max: 1,
    onnotice: (n) => plans && process.stdout.write(`${n.message}\n`),
    connection: plans
      ? {
          client_min_messages: 'log',
          session_preload_libraries: 'auto_explain',
          'auto_explain.log_min_duration': '0',
          // PLANS=light: each statement's duration and plan without ANALYZE's per-node timing, which inflates
          // nested statements (a per-row trigger's, one per deleted execution) tenfold.
          ...(process.env.PLANS === 'light'
            ? {}
            : {
                'auto_explain.log_analyze': 'on',
                'auto_explain.log_buffers': 'on',
                'auto_explain.log_nested_statements': 'on',
                'auto_explain.log_triggers': 'on',
              }),
        }
      : {},
  });
  const db = drizzle({ client: sql }) as unknown as Executor;
  const cutoff = new Date(Date.now() - 30 * 86_400_000);
  for (let i = 0; i < Number(process.env.BATCHES ?? 3); i++) {
    const t0 = performance.now();
    const batch = await deleteDueBatch(db, { cutoff }, Number(process.env.BATCH ?? 500));
    log(`batch ${i}: ${batch.executions} executions in ${Math.round(performance.now() - t0)} ms`);
  }
  await sql.end();
  await database.close();
} finally {
  await pg.stop();
}
