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
