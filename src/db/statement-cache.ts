import {
  Column,
  getTableColumns,
  is,
  Placeholder,
  type Query,
  type SQL,
  type SQLWrapper,
  type Table,
} from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { Executor } from './client.js';

const caches = new WeakMap<object, Map<string, unknown>>();

/**
 * A statement built once per database handle and kept (drizzle's query building costs more than the read itself on
 * the hot paths). Transactions are handles of their own, so their statements go with them.
 */
export function prepared<T>(db: Executor, name: string, build: (db: Executor) => T): T {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let statement = cache.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(db);
    cache.set(name, statement);
  }
  return statement;
}

const dialect = new PgDialect();

/** A statement of a fixed shape bound to one call's values: its text, and its parameters with the values filled in. */
export interface Bound {
  query: Query;
  values: Record<string, unknown>;
  params: unknown[];
}

/**
 * A statement of a fixed shape (its values as `sql.placeholder`s), its text and parameters built once and its
 * placeholders filled per call: building a statement with drizzle costs tens of µs per call (0.6 ms for the change
 * tail's), more than the socket write it precedes. The one way Vigil builds a statement once; `statementOf`,
 * `shaped` reads, the pipeline's writes and the change tail all bind through it.
 */
export function fixed(source: SQLWrapper): Fixed {
  const query = dialect.sqlToQuery(source.getSQL());
  const fills = query.params.map((p) =>
    is(p, Placeholder) ? (values: Record<string, unknown>) => values[p.name] : () => p,
  );
  const bind = (values: Record<string, unknown>): Bound => ({
    query,
    values,
    params: fills.map((fill) => fill(values)),
  });
  return Object.assign(bind, { query });
}

/** A statement built once: binds values by placeholder name; `query` is what every binding of it shares. */
export type Fixed = ((values: Record<string, unknown>) => Bound) & { readonly query: Query };

/** Rows of a raw statement: postgres.js answers an array, PGlite `{ rows }`. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  return (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as Record<string, unknown>[];
}

/** The handle's own postgres.js client; null on PGlite and in a transaction (no `$client` of its own). */
function postgresClientOf(db: Executor): postgres.Sql | null {
  const client = (db as unknown as { $client?: Partial<postgres.Sql> }).$client;
  return client && typeof client.unsafe === 'function' && typeof client.reserve === 'function'
    ? (client as postgres.Sql)
    : null;
}

/**
 * Runs a bound statement, its rows as records by column name. On PostgreSQL it goes to postgres.js directly, prepared
 * (a statement alone is its own transaction: no BEGIN and COMMIT of their own); PGlite and transactions run it through
 * drizzle's session (`_.session.prepareQuery`; `test/db/workarounds.test.ts` holds it on a transaction's session).
 */
export async function runBound(db: Executor, bound: Bound): Promise<Record<string, unknown>[]> {
  const client = postgresClientOf(db);
  if (client) return rowsOf(await client.unsafe(bound.query.sql, bound.params as never[], { prepare: true }));
  const { session } = (db as unknown as { _: { session: DrizzleSession } })._;
  return rowsOf(await session.prepareQuery(bound.query, undefined, undefined, false).execute(bound.values));
}

/** What `runBound` calls on drizzle's session (an internal of drizzle-orm 0.45). */
interface DrizzleSession {
  prepareQuery(
    query: Query,
    fields: undefined,
    name: undefined,
    arrayMode: boolean,
  ): { execute(values: Record<string, unknown>): Promise<unknown> };
}

/** A prepared select whose placeholders are given by name. */
export interface RowStatement<T> {
  execute(values: Record<string, unknown>): Promise<T[]>;
}

/** A drizzle query with placeholders: its SQL, and drizzle's own prepared form. */
export interface DrizzleQuery<T> {
  getSQL(): SQL;
  prepare(name: string): RowStatement<T>;
}

/** How a row's columns are read, in the order selected: by a table column's decoder, or as the driver gives it (null). */
export type RowColumns = readonly (readonly [string, Column | null])[];

/** A statement built once: how to bind it to a request's values, and how to run it with them. */
export interface BuiltStatement<T> extends RowStatement<T> {
  bind(values: Record<string, unknown>): Bound;
}

/**
 * Runs a built query with named values, decoding its columns. On PostgreSQL it runs the text drizzle built on the
 * handle's postgres.js client as a prepared statement and decodes each column as drizzle's `mapResultRow` does
 * (`mapFromDriverValue`, nulls kept), without the layers drizzle adds to every call (three tracing spans, a
 * result-cache lookup, four promise hops: a fifth of a primary-key read's CPU). PGlite and transactions (no `$client`
 * of their own) run drizzle's prepared query, named `name`.
 */
export function statementOf<T>(
  db: Executor,
  name: string,
  query: DrizzleQuery<T>,
  columns: RowColumns,
): BuiltStatement<T> {
  const bind = fixed(query);
  const client = postgresClientOf(db);
  if (!client) {
    const statement = query.prepare(name);
    return { bind, execute: (values) => statement.execute(values) };
  }
  const unsafe = client.unsafe.bind(client);
  const decode = decoderOf<T>(columns);
  const options = { prepare: true };
  const rowsOf = (rows: unknown[][]): T[] => {
    const out: T[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) out[r] = decode(rows[r] as unknown[]);
    return out;
  };
  return {
    bind,
    // not an async function: the query's own promise, mapped, with no extra hop
    execute: (values) => {
      const { query: q, params } = bind(values);
      return unsafe(q.sql, params as never[], options)
        .values()
        .then(rowsOf);
    },
  };
}

/**
 * How a row's values (in the order selected, the first at `from`) become a record: each column's decoder as drizzle's `mapResultRow` applies
 * it (`mapFromDriverValue`, nulls kept), skipped for columns whose driver value is the value.
 */
export function decoderOf<T>(columns: RowColumns, from = 0): (values: readonly unknown[]) => T {
  const keys = columns.map(([key]) => key);
  // Columns whose driver value is the value (text, integers, json): no call per value for them.
  const maps = columns.map(([, column]) => (column && mapsValues(column) ? column : null));
  return (values) => {
    const record: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const value = values[from + i];
      const column = maps[i];
      record[keys[i] as string] = value == null ? null : column ? column.mapFromDriverValue(value) : value;
    }
    return record as T;
  };
}

/** Every column of `table`, in its declared order: how `select()` of the table selects them. */
export function columnsOf(table: Table): RowColumns {
  return Object.entries(getTableColumns(table));
}

/** A select of whole rows of `table` (`db.select().from(table)…`), built once per handle like `prepared`. */
export function preparedRows<T>(
  db: Executor,
  name: string,
  table: Table,
  build: (db: Executor) => DrizzleQuery<T>,
): RowStatement<T> {
  return prepared(db, name, (d) => statementOf(d, name, build(d), columnsOf(table)));
}

/** Whether a column maps its driver's values (drizzle's `Column` returns them as they are; text, integers, json do not override it). */
function mapsValues(column: Column): boolean {
  return column.mapFromDriverValue !== Column.prototype.mapFromDriverValue;
}
