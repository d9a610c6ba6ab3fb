import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import type { Db, Tx } from './client.js';

/** A transaction that can put statements on the wire in order without waiting for each. */
export interface Pipeline {
  tx: Tx;
  /**
   * Sends the statements in this order, and COMMIT right behind them when `commit` is true; resolves with each one's
   * rows once all are done (and committed). With COMMIT sent, a failing statement makes the server roll back, and this
   * rejects. On PGlite the statements run in order and the transaction commits when the callback returns.
   */
  send(statements: SQL[], commit: boolean): Promise<unknown[][]>;
}

/** The SQLSTATE of a database error, from either driver (drizzle wraps PGlite's errors, keeping them as `cause`). */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Rows of a raw statement: postgres.js answers an array, PGlite `{ rows }`. */
function rowsOf(result: unknown): unknown[] {
  return Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
}

/**
 * Runs `fn` in one transaction. On PostgreSQL the transaction has a connection of its own and nothing waits that need
 * not: BEGIN goes out with the first statements, and the last writes may carry COMMIT (`send`), so a read-then-write
 * transaction costs two round trips instead of four. Whatever `fn` left uncommitted is committed when it returns;
 * when it throws, the transaction rolls back. On PGlite (in process, no round trips) this is `db.transaction`.
 */
export async function pipelinedTransaction<T>(db: Db, fn: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const client = (db as unknown as { $client?: postgres.Sql }).$client;
  if (!client || typeof client.reserve !== 'function') {
    return db.transaction((tx) =>
      fn({ tx, send: async (statements) => (await Promise.all(statements.map((s) => tx.execute(s)))).map(rowsOf) }),
    );
  }
  const internal = db as unknown as { dialect: PgDialect; session: { schema: never; options: never } };
  const reserved = await client.reserve();
  let ended: Promise<void> | undefined;
  const end = (statement: 'commit' | 'rollback') => {
    ended ??= reserved.unsafe(statement).then((result) => {
      if (statement === 'commit' && result.command !== 'COMMIT') throw new Error('The transaction was rolled back');
    });
    return ended;
  };
  // Raw queries are handed to the connection in the order they are executed here (each after one microtask); the
  // query builder's own layers would take a varying number, so statements sent with COMMIT never go through them.
  const send = async (statements: SQL[], commit: boolean): Promise<unknown[][]> => {
    const queries = statements.map((s) => {
      const { sql, params } = internal.dialect.sqlToQuery(s);
      return reserved.unsafe(sql, params as never[]).execute();
    });
    const [results] = await Promise.all([Promise.all(queries), commit ? end('commit') : undefined]);
    return results.map(rowsOf);
  };
  try {
    const begun = reserved.unsafe('begin').execute(); // before anything the callback sends
    const session = new PostgresJsSession(
      reserved as never,
      internal.dialect,
      internal.session.schema,
      internal.session.options,
    );
    const tx = new PostgresJsTransaction(internal.dialect, session, internal.session.schema) as unknown as Tx;
    // Both settle before anything else is sent, so no statement of the callback can follow a ROLLBACK.
    const [begin, work] = await Promise.allSettled([begun, fn({ tx, send })]);
    if (begin.status === 'rejected') throw begin.reason;
    if (work.status === 'rejected') throw work.reason;
    await end('commit');
    return work.value;
  } catch (err) {
    await (ended ?? end('rollback')).catch(() => {});
    throw err;
  } finally {
    reserved.release();
  }
}
