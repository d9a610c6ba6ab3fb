import type postgres from 'postgres';

type Callback = (sql: postgres.Sql) => unknown;

/**
 * postgres.js prepares its tagged-template queries, but `unsafe`, which drizzle sends every query through, does not by
 * default; and a query with parameters that is not prepared first waits for the server to describe it: two round
 * trips for every query, with nothing pipelined behind it. Through this view of a client, and of the transactions and
 * reserved connections it opens, queries are prepared: once per statement text per connection, then one round trip.
 *
 * A workaround of drizzle-orm#6096 (https://github.com/drizzle-team/drizzle-orm/issues/6096, open; drizzle-orm
 * 0.45.4): drizzle's postgres-js session calls `client.unsafe(query, params)` with no options, so the client's own
 * `prepare` setting is ignored. Exit: once a drizzle-orm release passes the client's `prepare` to `unsafe` (the fix
 * proposed in drizzle-orm#6098), delete this file and hand `openPostgres`'s client to drizzle as it is (postgres.js
 * prepares by default). `test/db/workarounds.test.ts` fails, saying so, when the installed drizzle-orm does that.
 */
export function preparing<T extends postgres.Sql>(sql: T): T {
  const withCallback =
    (method: 'begin' | 'savepoint') =>
    (...args: unknown[]) => {
      const fn = args.pop() as Callback;
      return (sql[method as 'begin'] as (...a: unknown[]) => unknown)(...args, (inner: postgres.Sql) =>
        fn(preparing(inner)),
      );
    };
  return new Proxy(sql, {
    get(target, prop, receiver) {
      switch (prop) {
        case 'unsafe':
          return (query: string, args: unknown[] = [], options: Record<string, unknown> = {}) =>
            target.unsafe(query, args as never[], { ...options, prepare: true });
        case 'begin':
        case 'savepoint':
          return prop in target ? withCallback(prop) : undefined;
        case 'reserve':
          return async () => preparing(await target.reserve());
        default:
          return Reflect.get(target, prop, receiver);
      }
    },
  });
}
