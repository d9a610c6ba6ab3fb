import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { within } from '../within.js';
import type { Db, Tx } from './client.js';
import { type Bound, rowsOf, runBound } from './statement-cache.js';

/** What a pipeline sends: a statement built for this call, or a fixed one bound to this call's values. */
export type Statement = SQL | Bound;

const isBound = (s: Statement): s is Bound => 'query' in s && 'values' in s;

/** A transaction that can put statements on the wire in order without waiting for each. */
export interface Pipeline {
  /** drizzle's handle of the transaction (made when first asked for). */
  tx: Tx;
  /**
   * Sends the statements in this order, and COMMIT right behind them when `commit` is true; resolves with each one's
   * rows once all are done (and committed). With COMMIT sent, a failing statement makes the server roll back, and this
   * rejects. On PGlite the statements run in order and the transaction commits when the callback returns.
   */
  send(statements: Statement[], commit: boolean): Promise<unknown[][]>;
}

/** The SQLSTATE of a database error, from either driver (drizzle wraps PGlite's errors, keeping them as `cause`). */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs `fn` in one transaction. It builds drizzle's transaction itself from drizzle-orm internals (0.45.4): the
 * database's `$client`, `dialect` (`sqlToQuery`) and `session.schema`/`session.options`, and the constructors
 * `PostgresJsSession(client, dialect, schema, options)` and `PostgresJsTransaction(dialect, session, schema)`; and
 * postgres.js 3.4.9's `onexecute` query option and its connection's `onclose`, `reserved` and `terminate()`. `test/db/workarounds.test.ts` fails,
 * naming the one that changed, when an upgrade moves any of them. On PostgreSQL the transaction has a connection of its own and nothing waits that need
 * not: BEGIN goes out with the first statements, and the last writes may carry COMMIT (`send`), so a read-then-write
 * transaction costs two round trips instead of four. Whatever `fn` left uncommitted is committed when it returns;
 * when it throws, the transaction rolls back. On PGlite (in process, no round trips) this is `db.transaction`, a fixed
 * statement run by `runBound`.
 */
export async function pipelinedTransaction<T>(db: Db, fn: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const client = (db as unknown as { $client?: postgres.Sql }).$client;
  if (!client || typeof client.reserve !== 'function') {
    const run = async (tx: Tx, s: Statement) => (isBound(s) ? runBound(tx, s) : rowsOf(await tx.execute(s)));
    return db.transaction((tx) => fn({ tx, send: (statements) => Promise.all(statements.map((s) => run(tx, s))) }));
  }
  const internal = db as unknown as { dialect: PgDialect; session: { schema: never; options: never } };
  const reserved = await reserve(client);
  const link = watch(reserved);
  let ended: Promise<void> | undefined;
  const end = (statement: 'commit' | 'rollback') => {
    ended ??= link.sql.unsafe(statement).then((result) => {
      if (statement === 'commit' && result.command !== 'COMMIT') throw new Error('The transaction was rolled back');
    });
    return ended;
  };
  // Raw queries are handed to the connection in the order they are executed here (each after one microtask); the
  // query builder's own layers would take a varying number, so statements sent with COMMIT never go through them.
  const send = async (statements: Statement[], commit: boolean): Promise<unknown[][]> => {
    const queries = statements.map((s) => {
      const { sql, params } = isBound(s) ? { sql: s.query.sql, params: s.params } : internal.dialect.sqlToQuery(s);
      return link.sql.unsafe(sql, params as never[]).execute();
    });
    const [results] = await Promise.all([Promise.all(queries), commit ? end('commit') : undefined]);
    return results.map(rowsOf);
  };
  try {
    const begun = link.begin(); // before anything the callback sends
    // drizzle's handle only for a callback that uses it (a session and a transaction object per call otherwise)
    let tx: Tx | undefined;
    const pipeline: Pipeline = {
      get tx() {
        if (!tx) {
          const { schema, options } = internal.session;
          const session = new PostgresJsSession(link.sql as never, internal.dialect, schema, options);
          tx = new PostgresJsTransaction(internal.dialect, session, schema) as unknown as Tx;
        }
        return tx;
      },
      send,
    };
    // Both settle before anything else is sent, so no statement of the callback can follow a ROLLBACK. A connection
    // that closes settles them at once (its statements may never answer: postgres.js#1208).
    const [begin, work] = await Promise.allSettled([begun, Promise.race([fn(pipeline), link.lost])]);
    if (begin.status === 'rejected') throw begin.reason;
    if (work.status === 'rejected') throw work.reason;
    await Promise.race([end('commit'), link.lost]);
    return work.value;
  } catch (err) {
    // A closed connection has rolled back already (the server ends a transaction whose session ends). One that does not
    // answer the ROLLBACK in time is in a state nobody knows: it is ended rather than given back to the pool.
    if (!link.closed()) {
      const rolledBack = Promise.race([ended ?? end('rollback'), link.lost]).then(
        () => true,
        () => link.closed(),
      );
      if (!(await within(rolledBack, ROLLBACK_TIMEOUT_MS, false))) link.discard();
    }
    throw err;
  } finally {
    link.release();
  }
}

/** A ROLLBACK has no locks to wait for: one not answered within this means the connection is not working. */
const ROLLBACK_TIMEOUT_MS = 2000;

/**
 * A transaction's wait for a connection of its own. The pool hands one out at once unless all are busy or the
 * database cannot be reached (then the reserve fails). But postgres.js 3.4.9 leaves a waiting `reserve()` unanswered
 * for ever when the connection it was promised closes and then reconnects
 * (https://github.com/porsager/postgres/issues/1195), as happens when a database comes back; that one write, and every
 * write queued behind it, would wait for ever. So a reserve not answered within RESERVE_RETRY_MS is asked again
 * beside the first (the first answer wins; a later one goes back to the pool), and after RESERVE_TIMEOUT_MS the
 * transaction fails as a connection fault (503 to the client, which may retry). A reserve is also lost when the
 * connection it was handed to fetches its array types first (`fetch_types`: `initial.reserve && (initial = null)` in
 * postgres.js's ReadyForQuery), which every new connection does: after an outage, most are. Hence a short retry.
 * Two seconds is far above any wait for a free connection of a working pool (writes hold a handful of its 20), and
 * below the three seconds an HTTP client may reasonably wait for an answer while the database is down.
 */
const RESERVE_RETRY_MS = 250;
const RESERVE_TIMEOUT_MS = 2000;

/** A reserve not answered yet: when it was asked first and last, and how it ends. */
interface Waiting {
  client: postgres.Sql;
  since: number;
  asked: number;
  settle(outcome: { reserved: postgres.ReservedSql } | { error: unknown }): boolean;
}

/**
 * The reserves not answered yet, looked at by one timer while there are any: a reserve answered at once (nearly all)
 * costs no timer of its own. Retries and the timeout are thus up to one tick late (250 ms).
 */
const waiting = new Set<Waiting>();
let ticking: NodeJS.Timeout | undefined;

function tick(): void {
  const now = Date.now();
  for (const w of waiting) {
    if (now - w.since >= RESERVE_TIMEOUT_MS) {
      const err = new Error(`No database connection within ${RESERVE_TIMEOUT_MS} ms`);
      w.settle({ error: Object.assign(err, { code: 'CONNECT_TIMEOUT' }) });
    } else if (now - w.asked >= RESERVE_RETRY_MS) {
      w.asked = now;
      ask(w);
    }
  }
  if (waiting.size === 0) {
    clearInterval(ticking);
    ticking = undefined;
  }
}

function ask(w: Waiting): void {
  w.client.reserve().then(
    (reserved) => w.settle({ reserved }) || reserved.release(),
    (error: unknown) => w.settle({ error }),
  );
}

function reserve(client: postgres.Sql): Promise<postgres.ReservedSql> {
  return new Promise((resolve, reject) => {
    const now = Date.now();
    const w: Waiting = {
      client,
      since: now,
      asked: now,
      settle: (outcome) => {
        if (!waiting.delete(w)) return false;
        if ('reserved' in outcome) resolve(outcome.reserved);
        else reject(outcome.error);
        return true;
      },
    };
    waiting.add(w);
    ticking ??= setInterval(tick, RESERVE_RETRY_MS);
    ask(w);
  });
}

/** The parts of postgres.js's connection object (internal) used here, as its own `sql.begin` and pool use them. */
interface WatchedConnection {
  /** Called by the pool, with the error, when the connection closes. */
  onclose: ((err: unknown) => void) | null;
  /** Set by `reserve()` while the connection is reserved; the pool clears it when the connection closes. */
  reserved: unknown;
  /** Ends the socket; every query sent or queued on it fails with CONNECTION_DESTROYED. */
  terminate(): void;
}

interface Link {
  /** The reserved connection, refusing (as CONNECTION_CLOSED) every query once the connection has closed. */
  sql: postgres.ReservedSql;
  /** Sends BEGIN, and learns from postgres.js which connection it went out on; rejects if that connection closes. */
  begin(): Promise<unknown>;
  /** Rejects (handled) when the connection closes: statements in flight on it may never answer. */
  lost: Promise<never>;
  closed(): boolean;
  /** Ends a connection in an unknown state instead of giving it back; its queries fail. */
  discard(): void;
  /** Gives the connection back to the pool, unless it closed: then the pool has it among its closed ones already. */
  release(): void;
}

/**
 * A reserved connection that knows when it has closed. postgres.js 3.4.9 does not: a query sent on a reserved
 * connection after it closed never settles (and throws an uncaught TypeError from a timer,
 * https://github.com/porsager/postgres/issues/1208), and releasing it puts the dead connection among the open ones,
 * where the pool's next queries hang (https://github.com/porsager/postgres/issues/1199). After a database restart that
 * left every write waiting for ever. So the reservation is watched the way postgres.js's own `sql.begin` watches its
 * connection: the `onexecute` option of BEGIN hands over the connection, whose `onclose` the pool calls when it
 * closes; a connection that closed before BEGIN went out (the pool cleared its `reserved`) counts as closed at once,
 * and is terminated so that BEGIN and anything queued behind it fail instead of waiting on a socket that is gone.
 * Every wait of the transaction races `lost`. `test/db/pipeline.test.ts` kills the backend of a reserved connection and
 * fails if this stops working.
 */
function watch(reserved: postgres.ReservedSql): Link {
  let connection: WatchedConnection | undefined;
  let closedBy: unknown;
  let loseWith: (err: unknown) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    loseWith = reject;
  });
  lost.catch(() => {}); // a transaction that finished before its connection closed does not wait for this
  const onclose = (err: unknown) => {
    if (closedBy !== undefined) return;
    closedBy = err ?? Object.assign(new Error('The database connection closed'), { code: 'CONNECTION_CLOSED' });
    loseWith(closedBy);
  };
  const refuse = () => {
    throw closedBy;
  };
  const sql = new Proxy(reserved, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (...args: Parameters<postgres.ReservedSql['unsafe']>) =>
          closedBy === undefined ? target.unsafe(...args) : refuse();
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const began = () =>
    reserved
      .unsafe('begin', [], {
        onexecute: (c: WatchedConnection) => {
          connection = c;
          if (c.reserved) {
            c.onclose = onclose;
          } else {
            onclose(undefined);
            queueMicrotask(() => c.terminate());
          }
          return true; // as postgres.js's begin: the connection stays reserved
        },
      } as never)
      .execute();
  return {
    sql,
    begin: () => Promise.race([began(), lost]),
    lost,
    closed: () => closedBy !== undefined,
    discard: () => {
      onclose(Object.assign(new Error('The database connection did not answer'), { code: 'CONNECTION_DESTROYED' }));
      connection?.terminate();
    },
    release: () => {
      if (connection?.onclose === onclose) connection.onclose = null;
      if (closedBy === undefined) reserved.release();
    },
  };
}
