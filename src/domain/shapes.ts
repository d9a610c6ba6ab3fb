import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { type BuiltStatement, type DrizzleQuery, type RowColumns, statementOf } from '../db/statement-cache.js';
import { VigilError } from './errors.js';

/**
 * Statements built once per shape. A list's or a count's SQL text depends only on which fields its filter has (and
 * how many pairs and statuses), on whether it has a cursor, and on the page size: its values are parameters. Built
 * with drizzle for every request, the statement cost the server more than PostgreSQL's read of a tag's first page
 * (aliases, a subquery, the text, then drizzle's layers around the call). Here a read's values are named by their
 * path in its arguments (`tenant.org`, `filter.tags.0.key`, …), the names make its shape, and the statement is built
 * once per shape with placeholders in their place; a request then only binds its values.
 */

/** The values of a read's arguments by name (every string in them, named by its path) and the names, its shape. */
export function valuesOf(args: object): { values: Record<string, string>; shape: string } {
  const values: Record<string, string> = {};
  walk(args, '', (path, value) => {
    values[path] = value;
    return value;
  });
  return { values, shape: Object.keys(values).join(' ') };
}

/** The same arguments with a placeholder, named as `valuesOf` names it, in place of each string. */
export function placeholdersOf<T extends object>(args: T): T {
  return walk(args, '', (path) => sql.placeholder(path)) as T;
}

function walk(x: unknown, path: string, leaf: (path: string, value: string) => unknown): unknown {
  if (typeof x === 'string') return leaf(path, x);
  if (Array.isArray(x)) return x.map((y, i) => walk(y, `${path}.${i}`, leaf));
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      if (v !== undefined && v !== null) out[k] = walk(v, path ? `${path}.${k}` : k, leaf);
    }
    return out;
  }
  // A number, a boolean or an object of another kind would be a value the shape does not name.
  throw new VigilError('INTERNAL', `Not a statement value at ${path}`);
}

/** A read: awaited, its rows; `toSQL()`, its text and values as sent (the index tests explain it). */
export interface ShapedRead<T> extends PromiseLike<T[]> {
  toSQL(): { sql: string; params: unknown[] };
}

export type { RowColumns };

/** At most this many shapes are kept per database handle, the least recently used dropped first. */
const MAX_SHAPES = 200;
const perHandle = new WeakMap<object, Map<string, BuiltStatement<unknown>>>();
let prepared = 0;

/**
 * A read of `args` by the statement of its shape (built by `build` from the arguments' placeholders, once per `kind`
 * and shape and database handle), run as statement-cache.ts `statementOf` runs it.
 */
export function shaped<T, A extends object>(
  db: Executor,
  kind: string,
  args: A,
  columns: RowColumns,
  build: (db: Executor, bound: A) => DrizzleQuery<unknown>,
): ShapedRead<T> {
  const { values, shape } = valuesOf(args);
  const key = `${kind}|${shape}`;
  let cache = perHandle.get(db);
  if (!cache) {
    cache = new Map();
    perHandle.set(db, cache);
  }
  let statement = cache.get(key);
  if (statement) cache.delete(key);
  else {
    statement = statementOf(db, `shaped_${++prepared}`, build(db, placeholdersOf(args)), columns);
    if (cache.size >= MAX_SHAPES) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, statement);
  const s = statement;
  return {
    toSQL: () => {
      const { query, params } = s.bind(values);
      return { sql: query.sql, params };
    },
    // biome-ignore lint/suspicious/noThenProperty: a read is awaited like drizzle's queries
    then: (resolve, reject) => (s.execute(values) as Promise<T[]>).then(resolve, reject),
  };
}
