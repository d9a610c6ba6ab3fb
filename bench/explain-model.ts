/**
 * `npx tsx bench/explain-model.ts [SQL…]`: the plans behind the model part's figures. Starts a PostgreSQL, migrates,
 * seeds the model part's 1,000,000 executions, prints `EXPLAIN (ANALYZE, BUFFERS)` of the tag-filtered first page
 * and counts exactly as the domain builds them (each twice: the second run has the cache warm), and of each extra
 * SQL statement given (run before the plans, e.g. to try an index; an `explain …` prints its plan). Stops what it
 * started.
 */
import { openDatabase } from '../src/db/client.js';
import type { Principal } from '../src/domain/access.js';
import { countQuery, listQuery } from '../src/domain/executions.js';
import { startPostgres } from '../test/support/postgres.js';
import { MODEL_ROWS, seedModel } from './model.js';

const principal: Principal = {
  organizationId: 'default',
  environment: 'test',
  scopes: new Set(['executions:read']),
  keyId: null,
};
const log = (m: string) => process.stderr.write(`[explain] ${m}\n`);

const pg = await startPostgres({ durable: true });
try {
  const database = await openDatabase({ databaseUrl: pg.url, poolSize: 2 });
  if (database.notifier.kind !== 'postgres') throw new Error('needs PostgreSQL');
  const sql = database.notifier.sql;
  await seedModel(sql, Number(process.env.ROWS ?? MODEL_ROWS), log);
  for (const statement of process.argv.slice(2)) {
    log(statement);
    const rows = await sql.unsafe(statement);
    if (/^explain/i.test(statement)) process.stdout.write(`${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
  }
  const filter = { tags: [{ key: 'customer', value: 'c-37' }] };
  for (const [name, q] of [
    ['first page', listQuery(database.db, principal, { filter, first: 20 })],
    ['counts', countQuery(database.db, principal, filter)],
  ] as const) {
    const { sql: text, params } = q.toSQL();
    for (const run of [1, 2]) {
      const rows = await sql.unsafe(`explain (analyze, buffers) ${text}`, params as never[]);
      process.stdout.write(`\n== ${name} (run ${run})\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
    }
  }
  await database.close();
} finally {
  await pg.stop();
}
