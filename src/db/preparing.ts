import type postgres from 'postgres';

type Callback = (sql: postgres.Sql) => unknown;

/**
 * postgres.js prepares its tagged-template queries, but `unsafe`, which drizzle sends every query through, does not by
 * default; and a query with parameters that is not prepared first waits for the server to describe it: two round
 * trips for every query, with nothing pipelined behind it. Through this view of a client, and of the transactions and
 * reserved connections it opens, queries are prepared: once per statement text per connection, then one round trip.
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
