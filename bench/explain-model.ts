/**
 * `npx tsx bench/explain-model.ts [SQL…]`: the plans behind the model part's figures. Starts a PostgreSQL, migrates,
 * seeds the model part's 1,000,000 executions, prints `EXPLAIN (ANALYZE, BUFFERS)` of the model part's reads exactly
 * as the domain builds them (a first page of one pair, of two pairs, of two that never meet, of a pair and a status,
 * of a pair and a workflow it never runs, the untagged first page, the counts; each twice: the second run has the cache warm), and of each extra SQL statement given (run before the
 * plans, e.g. to try an index; an `explain …` prints its plan). Then the SQL alone, as the server sends it (a prepared
 * statement, one at a time): p50 and p99 of 500 runs of each, to set beside the HTTP figures. Stops what it started.
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

/** `MODEL_DATABASE_URL`: a database this script seeded before (kept up elsewhere), read as it is: no start, no seed. */
const seeded = process.env.MODEL_DATABASE_URL;
const pg = seeded ? null : await startPostgres({ durable: true });
try {
  const database = await openDatabase({ databaseUrl: seeded ?? pg?.url, poolSize: 2 });
  if (database.notifier.kind !== 'postgres') throw new Error('needs PostgreSQL');
  const sql = database.notifier.sql;
  if (!seeded) await seedModel(sql, Number(process.env.ROWS ?? MODEL_ROWS), log);
  for (const statement of process.argv.slice(2)) {
    log(statement);
    const rows = await sql.unsafe(statement);
    if (/^explain/i.test(statement)) process.stdout.write(`${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
  }
  // c-37's executions are every 300th (i ≡ 49 mod 300): half of them are team-23's (none team-24's), all model-wf-9's,
  // none FAILED, 1 in 97 RUNNING.
  const pair = { key: 'customer', value: 'c-37' };
  const reads = {
    'first page': (db: typeof database.db) => listQuery(db, principal, { filter: { tags: [pair] }, first: 20 }),
    'first page, two pairs': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [pair, { key: 'team', value: 'team-23' }] }, first: 20 }),
    'first page, a pair and RUNNING': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [pair], status: ['RUNNING'] }, first: 20 }),
    'first page, a pair and FAILED (none)': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [pair], status: ['FAILED'] }, first: 20 }),
    'first page, two pairs that never meet': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [pair, { key: 'team', value: 'team-24' }] }, first: 20 }),
    'first page, two pairs that never meet, the larger first': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [{ key: 'team', value: 'team-24' }, pair] }, first: 20 }),
    'first page, a pair and a workflow it never runs': (db: typeof database.db) =>
      listQuery(db, principal, { filter: { tags: [pair], workflowId: 'model-wf-0' }, first: 20 }),
    'first page, no filter': (db: typeof database.db) => listQuery(db, principal, { first: 20 }),
    counts: (db: typeof database.db) => countQuery(db, principal, { tags: [pair] }),
  };
  for (const [name, read] of Object.entries(reads)) {
    const { sql: text, params } = read(database.db).toSQL();
    for (const run of [1, 2]) {
      const rows = await sql.unsafe(`explain (analyze, buffers) ${text}`, params as never[]);
      process.stdout.write(`\n== ${name} (run ${run})\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
    }
  }
  process.stdout.write('\n== the SQL alone, prepared, one at a time (500 runs; ms)\n');
  for (const [name, read] of Object.entries(reads)) {
    const times: number[] = [];
    for (let i = 0; i < 520; i++) {
      const started = performance.now();
      await read(database.db);
      if (i >= 20) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => (times[Math.floor((times.length * p) / 100)] ?? 0).toFixed(2);
    process.stdout.write(`${name.padEnd(40)} p50 ${at(50)}  p99 ${at(99)}\n`);
  }
  await database.close();
} finally {
  await pg?.stop();
}
