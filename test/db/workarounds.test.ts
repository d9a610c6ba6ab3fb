import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { drizzle, PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pgArray } from '../../src/db/arrays.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { pipelinedTransaction } from '../../src/db/pipeline.js';
import { preparing } from '../../src/db/prepare-all.js';
import { fixed } from '../../src/db/statement-cache.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

/**
 * The workarounds of src/db/ rely on what a library does today. These tests fail, naming what changed, when an
 * upgrade moves it: the workaround is then either wrong or no longer needed.
 */

const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Record<string, unknown>[];

describe('drizzle-orm#6096: drizzle sends queries through postgres.js unsafe() without prepare (src/db/prepare-all.ts)', () => {
  let client: postgres.Sql;
  const seen: (Record<string, unknown> | undefined)[] = [];
  const recording = (target: postgres.Sql) =>
    new Proxy(target, {
      get(t, prop, receiver) {
        if (prop !== 'unsafe') return Reflect.get(t, prop, receiver);
        return (query: string, args?: never[], options?: Record<string, unknown>) => {
          seen.push(options);
          return t.unsafe(query, args, options);
        };
      },
    });
  beforeAll(async () => {
    client = postgres(await newDatabaseUrl(), { max: 1, onnotice: () => {} });
  });
  afterAll(() => client.end());

  it('is still needed: the installed drizzle-orm does not ask postgres.js to prepare', async () => {
    seen.length = 0;
    await drizzle({ client: recording(client) }).execute(sql`select ${1}::int as n`);
    expect(seen.length).toBeGreaterThan(0);
    const prepared = seen.every((o) => o?.prepare === true);
    expect(
      prepared,
      'drizzle-orm now passes prepare: true to unsafe() (drizzle-orm#6096 is fixed): delete src/db/prepare-all.ts',
    ).toBe(false);
  });

  it('works around it: through preparing(), every query is prepared', async () => {
    seen.length = 0;
    const db = drizzle({ client: preparing(recording(client)) });
    expect(rows(await db.execute(sql`select ${41}::int + 1 as n`))).toEqual([{ n: 42 }]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((o) => o?.prepare === true)).toBe(true);
  });
});

describe('postgres.js hands out the idle connection used last (scripts/postgres-patches.mjs, run by npm install)', () => {
  let client: postgres.Sql;
  beforeAll(async () => {
    client = postgres(await newDatabaseUrl(), { max: 3, onnotice: () => {} });
  });
  afterAll(() => client.end());

  it('sends sequential queries to one backend while others are open and idle', async () => {
    const pid = async (pause = 0) => (await client`select pg_backend_pid() as pid, pg_sleep(${pause})`)[0]?.pid;
    const opened = new Set(await Promise.all([pid(0.05), pid(0.05), pid(0.05)]));
    expect(opened.size).toBe(3);
    const sequential = [];
    for (let i = 0; i < 6; i++) sequential.push(await pid());
    expect(
      new Set(sequential).size,
      'postgres.js rotates over its idle connections again: scripts/postgres-patches.mjs found nothing to edit',
    ).toBe(1);
  });
});

describe('postgres.js#1208: a query on a connection whose backend ended fails instead of ending the process (scripts/postgres-patches.mjs)', () => {
  let client: postgres.Sql;
  let killer: postgres.Sql;
  beforeAll(async () => {
    const url = await newDatabaseUrl();
    client = postgres(url, { max: 2, onnotice: () => {} });
    killer = postgres(url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await killer.end();
    await client.end({ timeout: 1 });
  });
  /** How a query settles within 3 s: its first row's `one`, the error's code, or that it did not. */
  const outcome = (q: Promise<{ one: number }[]>) =>
    Promise.race([
      q.then(
        (r) => `answered ${r[0]?.one}`,
        (err: { code?: string }) => `failed ${err.code}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('no answer within 3 s'), 3000)),
    ]);

  it('fails the queries of a reserved connection whose backend was terminated as CONNECTION_CLOSED; the pool goes on', async () => {
    const reserved = await client.reserve();
    const [{ pid } = { pid: 0 }] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
    await killer`select pg_terminate_backend(${pid})`;
    await new Promise((r) => setTimeout(r, 200)); // the close reaches the client
    // Unpatched, each of these writes to the closed socket from an immediate: an uncaught TypeError (the run fails
    // on it; a server exits) and a query that never answers.
    const failed = 'failed CONNECTION_CLOSED';
    expect(
      await outcome(reserved<{ one: number }[]>`select 1 as one`),
      'scripts/postgres-patches.mjs found nothing to edit',
    ).toBe(failed);
    expect(await outcome(reserved<{ one: number }[]>`select 1 as one`)).toBe(failed);
    reserved.release();
    // The dead connection went back to the pool: the query handed it fails too, and the pool reconnects it.
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(await outcome(client<{ one: number }[]>`select 1 as one`));
    expect(after.slice(1)).toEqual(['answered 1', 'answered 1', 'answered 1']);
    expect(['answered 1', failed]).toContain(after[0]);
  });
});

describe('the drizzle-orm and postgres.js internals src/db/pipeline.ts builds transactions from', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 2 });
  });
  afterAll(() => database.close());

  it('still has the fields pipeline.ts reads off a drizzle database', () => {
    const db = database.db as unknown as Record<string, unknown> & {
      $client?: { reserve?: unknown };
      dialect?: { sqlToQuery?: unknown };
      session?: Record<string, unknown>;
    };
    expect(typeof db.$client?.reserve, 'drizzle db.$client (the postgres.js client) with reserve()').toBe('function');
    expect(db.dialect, 'drizzle db.dialect is a PgDialect').toBeInstanceOf(PgDialect);
    expect(typeof db.dialect?.sqlToQuery, 'drizzle PgDialect.sqlToQuery()').toBe('function');
    expect(db.session, 'drizzle db.session is a PostgresJsSession').toBeInstanceOf(PostgresJsSession);
    expect(db.session && 'schema' in db.session, 'drizzle PostgresJsSession.schema').toBe(true);
    expect(db.session && 'options' in db.session, 'drizzle PostgresJsSession.options').toBe(true);
  });

  it('still builds sessions and transactions from the constructor arguments pipeline.ts passes', async () => {
    const internal = database.db as unknown as { dialect: PgDialect; session: { schema: never; options: never } };
    const client = {} as never;
    const session = new PostgresJsSession(client, internal.dialect, internal.session.schema, internal.session.options);
    const fields = session as unknown as { client: unknown; schema: unknown; options: unknown };
    expect(fields.client, 'new PostgresJsSession(client, dialect, schema, options): client').toBe(client);
    expect(fields.schema, 'new PostgresJsSession(client, dialect, schema, options): schema').toBe(
      internal.session.schema,
    );
    expect(fields.options, 'new PostgresJsSession(client, dialect, schema, options): options').toBe(
      internal.session.options,
    );
    const tx = new PostgresJsTransaction(internal.dialect, session, internal.session.schema) as unknown as {
      session: unknown;
      dialect: unknown;
    };
    expect(tx.session, 'new PostgresJsTransaction(dialect, session, schema): session').toBe(session);
    expect(tx.dialect, 'new PostgresJsTransaction(dialect, session, schema): dialect').toBe(internal.dialect);
    // What drizzle's own transactions carry is what pipeline.ts gives its own.
    await database.db.transaction(async (own) => {
      const ownSession = (own as unknown as { session: { schema: unknown; options: unknown } }).session;
      expect(ownSession.schema, "drizzle's transaction session keeps the database's schema").toBe(
        internal.session.schema,
      );
      expect(ownSession.options, "drizzle's transaction session keeps the database's options").toBe(
        internal.session.options,
      );
    });
  });

  it('still hands a query’s connection to the onexecute option, and calls its onclose when it closes (postgres.js)', async () => {
    const client = (database.db as unknown as { $client: postgres.Sql }).$client;
    const reserved = await client.reserve();
    let connection: { onclose?: (err: unknown) => void } | undefined;
    const [row] = await reserved
      .unsafe('select pg_backend_pid() as pid', [], {
        onexecute: (c: { onclose?: (err: unknown) => void }) => {
          connection = c;
          return true;
        },
      } as never)
      .execute();
    expect(connection, 'postgres.js calls the onexecute query option with the connection').toBeTypeOf('object');
    const closed = new Promise<unknown>((resolve) => {
      if (connection) connection.onclose = resolve;
    });
    await client.unsafe('select pg_terminate_backend($1)', [(row as unknown as { pid: number }).pid]);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('no call'), 5000));
    expect(await Promise.race([closed.then(() => 'called'), timeout]), 'postgres.js calls connection.onclose').toBe(
      'called',
    );
  });

  it('still marks a reserved connection (connection.reserved), clears it on close, and has terminate() (postgres.js)', async () => {
    const client = (database.db as unknown as { $client: postgres.Sql }).$client;
    const reserved = await client.reserve();
    let connection: { reserved?: unknown; terminate?: unknown; onclose?: (err: unknown) => void } | undefined;
    const [row] = await reserved
      .unsafe('select pg_backend_pid() as pid', [], {
        onexecute: (c: typeof connection) => {
          connection = c;
          return true;
        },
      } as never)
      .execute();
    expect(connection?.reserved, 'a reserved connection has `reserved` set').toBeTruthy();
    expect(connection?.terminate, 'the connection object has terminate()').toBeTypeOf('function');
    const closed = new Promise<unknown>((resolve) => {
      if (connection) connection.onclose = resolve;
    });
    await client.unsafe('select pg_terminate_backend($1)', [(row as unknown as { pid: number }).pid]);
    await closed;
    expect(connection?.reserved, 'the pool clears `reserved` when the connection closes').toBeFalsy();
  });

  it('runs a transaction built this way', async () => {
    const answer = await pipelinedTransaction(database.db, async ({ tx, send }) => {
      const [sent] = await send([sql`select ${2}::int as n`], false);
      return { sent, executed: rows(await tx.execute(sql`select ${3}::int as n`)) };
    });
    expect(answer).toEqual({ sent: [{ n: 2 }], executed: [{ n: 3 }] });
  });
});

describe('the drizzle-orm internal src/db/pipeline.ts runs fixed statements through on PGlite', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
  });
  afterAll(() => database.close());

  it("still has a transaction's _.session.prepareQuery(query, fields, name, arrayMode), and runs a bound statement by it", async () => {
    const two = fixed(sql`select ${sql.placeholder('n')}::int + 1 as n, ${'fixed'}::text as s`);
    const answer = await pipelinedTransaction(database.db, async ({ tx, send }) => {
      const session = (tx as unknown as { _?: { session?: { prepareQuery?: unknown } } })._?.session;
      expect(typeof session?.prepareQuery, 'drizzle PgTransaction._.session.prepareQuery()').toBe('function');
      return send([two({ n: 1 }), two({ n: 41 })], true);
    });
    expect(answer).toEqual([[{ n: 2, s: 'fixed' }], [{ n: 42, s: 'fixed' }]]);
  });
});

describe.each(DB_KINDS)('pgArray round trips through %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 2 })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
  });
  afterAll(() => database.close());

  const CASES: [string, (string | null)[]][] = [
    ['plain words', ['a', 'b']],
    ['double quotes', ['say "hi"', '"', '""']],
    ['backslashes', ['\\', 'a\\b', '\\"', 'end\\']],
    ['NULL as a string and as null', ['NULL', null, 'null', 'Null']],
    ['braces and commas', ['{', '}', '{a,b}', ',', 'a,b', '{"x":1}']],
    ['unicode', ['é', '日本語', '🙂', 'e\u0301', '\u00a0']],
    ['empty strings', ['', '', 'x', '']],
    ['whitespace', [' ', ' lead', 'trail ', '\t', 'a\nb', '\r\n']],
    ['an empty list', []],
    ['only null', [null]],
  ];

  /**
   * The elements as the database holds them, one row each (postgres.js 3.4.9 reads an unquoted NULL inside an
   * array as the string 'NULL', so reading the array back whole would test its parser, not the literal).
   */
  const elements = async (literal: string) =>
    rows(
      await database.db.execute(
        sql`select x, x is null as missing from unnest(${literal}::text[]) with ordinality as t(x, i) order by i`,
      ),
    ).map((r) => (r.missing ? null : r.x));

  it.each(CASES)('%s', async (_name, values) => {
    expect(await elements(pgArray(values))).toEqual(values);
  });

  it('writes numbers and booleans as their text, and undefined as NULL', async () => {
    expect(await elements(pgArray([1, 2.5, true, false, undefined]))).toEqual(['1', '2.5', 'true', 'false', null]);
  });
});
