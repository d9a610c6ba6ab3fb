import type { Db } from '../../src/db/client.js';

/**
 * The handle with its postgres.js client's `reserve` counted: every pipelined transaction reserves a connection
 * (`db/pipeline.ts`), a statement alone does not. On PGlite (transactions in process, no round trips to save) the
 * handle is returned as it is and the count stays 0.
 */
export function countingReserves(db: Db): { db: Db; reserves: () => number } {
  let reserves = 0;
  const client = (db as unknown as { $client?: { reserve?: (...args: unknown[]) => unknown } }).$client;
  const reserve = client?.reserve;
  if (!client || typeof reserve !== 'function') return { db, reserves: () => reserves };
  const proxied = new Proxy(client, {
    get: (target, key) =>
      key === 'reserve'
        ? (...args: unknown[]) => {
            reserves += 1;
            return reserve.apply(target, args);
          }
        : Reflect.get(target, key),
  });
  const counted = new Proxy(db, {
    get: (target, key, receiver) => (key === '$client' ? proxied : Reflect.get(target, key, receiver)),
  });
  return { db: counted, reserves: () => reserves };
}
