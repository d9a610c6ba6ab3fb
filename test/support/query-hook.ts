import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { type DbKind, newDatabaseUrl, type StartOptions, startTestServer, type TestServer } from './harness.js';

type Hook = () => Promise<void>;

export interface HookedServer extends TestServer {
  /**
   * Runs `hook` before the next statement whose text matches is sent (once): what the hook commits is what a
   * concurrent writer would commit between that statement and the one before it. Resolves when the hook has run.
   */
  beforeQuery(match: (text: string) => boolean, hook: Hook): Promise<void>;
  /** The text of every statement sent outside a transaction, in order (clear it to count from a point). */
  statements: string[];
}

/**
 * A test server whose database client lets a test step in between two statements of one read, on either driver: the
 * one place a race between a reader's statements and a writer's commit can be made to happen every time. It wraps
 * drizzle's session client (drizzle-orm 0.45.4: `db.session.client`, the PGlite instance or postgres.js's `sql`),
 * which every statement outside a transaction goes through; transactions (the writers) are not held.
 */
export async function startHookedServer(kind: DbKind, options: StartOptions = {}): Promise<HookedServer> {
  const databaseUrl = kind === 'postgres' ? await newDatabaseUrl() : undefined;
  const database = await openDatabase(
    databaseUrl ? { databaseUrl } : { loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) },
  );
  let armed: { match: (text: string) => boolean; hook: Hook; ran: () => void; failed: (e: unknown) => void } | null =
    null;
  const statements: string[] = [];
  const take = (text: string): Promise<void> | null => {
    statements.push(text);
    if (!armed?.match(text)) return null;
    const { hook, ran, failed } = armed;
    armed = null;
    return hook().then(ran, (err) => {
      failed(err);
      throw err;
    });
  };
  const session = (database.db as unknown as { session: { client: object } }).session;
  const client = session.client as Record<string, unknown>;
  session.client = new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === 'query' && kind === 'pglite') {
        const query = value as (text: string, ...rest: unknown[]) => Promise<unknown>;
        return async (text: string, ...rest: unknown[]) => {
          await take(text);
          return query.call(target, text, ...rest);
        };
      }
      if (prop === 'unsafe' && kind === 'postgres') {
        const unsafe = value as (text: string, ...rest: unknown[]) => PromiseLike<unknown> & { values(): unknown };
        return (text: string, ...rest: unknown[]) => {
          const gate = take(text);
          if (!gate) return unsafe.call(target, text, ...rest);
          // drizzle awaits `unsafe(…)` or `unsafe(…).values()`: the statement is made once the hook has run.
          let values = false;
          const pending = {
            values: () => {
              values = true;
              return pending;
            },
            // biome-ignore lint/suspicious/noThenProperty: a thenable standing in for postgres.js's lazy query
            then: (ok: (v: unknown) => unknown, ko: (e: unknown) => unknown) =>
              gate
                .then(() => {
                  const q = unsafe.call(target, text, ...rest);
                  return values ? q.values() : q;
                })
                .then(ok, ko),
          };
          return pending;
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const server = await startTestServer(kind, { ...options, database, ...(databaseUrl && { databaseUrl }) });
  return Object.assign(server, {
    statements,
    beforeQuery: (match: (text: string) => boolean, hook: Hook) =>
      new Promise<void>((ran, failed) => {
        armed = { match, hook, ran, failed };
      }),
  });
}
