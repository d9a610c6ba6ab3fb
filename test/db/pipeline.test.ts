import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { pipelinedTransaction, sqlState } from '../../src/db/pipeline.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

/** Rows of a raw statement on either driver. */
const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { n: number }[];

describe.each(DB_KINDS)('pipelinedTransaction on %s', (kind) => {
  let database: Database;
  const count = async () => rows(await database.db.execute(sql`select count(*)::int as n from pipe_t`))[0]?.n;
  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 4 })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
    await database.db.execute(sql`create table pipe_t (v int primary key)`);
  });
  afterAll(() => database.close());

  it('commits what it sent with COMMIT, and what the callback left, and answers each statement with its rows', async () => {
    const before = await count();
    const answer = await pipelinedTransaction(database.db, async ({ tx, send }) => {
      const [first] = await send([sql`insert into pipe_t values (1)`], false);
      await tx.execute(sql`insert into pipe_t values (2)`);
      const [, inserted] = await send(
        [sql`insert into pipe_t values (3)`, sql`insert into pipe_t values (4), (5) returning v`],
        true,
      );
      return { first, inserted };
    });
    expect(answer.first).toEqual([]);
    expect(answer.inserted).toEqual([{ v: 4 }, { v: 5 }]);
    expect(await count()).toBe((before ?? 0) + 5);
  });

  it('keeps nothing when a statement sent with COMMIT fails: the whole transaction rolls back', async () => {
    const before = await count();
    await expect(
      pipelinedTransaction(database.db, async ({ send }) => {
        // Many statements ahead of the failing one: COMMIT must still travel behind all of them.
        await send(
          [...Array.from({ length: 20 }, (_, i) => sql`insert into pipe_t values (${100 + i})`), sql`select 1 / 0`],
          true,
        );
      }),
    ).rejects.toSatisfy((err) => sqlState(err) === '22012');
    expect(await count()).toBe(before);
  });

  it('rolls back when the callback throws, after reads and writes', async () => {
    const before = await count();
    await expect(
      pipelinedTransaction(database.db, async ({ tx, send }) => {
        await tx.execute(sql`select * from pipe_t for update`);
        await send([sql`insert into pipe_t values (200)`], false);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await count()).toBe(before);
    // The connection went back to the pool usable, outside any transaction.
    await pipelinedTransaction(database.db, ({ send }) => send([sql`insert into pipe_t values (201)`], true));
    expect(await count()).toBe((before ?? 0) + 1);
  });

  it('runs its first statements inside the transaction it began', async () => {
    const inside = await pipelinedTransaction(database.db, async ({ tx }) => {
      // SET LOCAL outside a transaction block only warns; inside one it holds until the end of the transaction.
      await tx.execute(sql`set local application_name = 'pipelined'`);
      return rows(await tx.execute(sql`select current_setting('application_name') as n`));
    });
    expect(inside[0]?.n).toBe('pipelined');
  });
});

describe('queries on PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 2 });
  });
  afterAll(() => database.close());
  const preparedHere = (tx: { execute(q: unknown): Promise<unknown> }, marker: string) =>
    tx
      .execute(sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${marker}%`}`)
      .then((r) => rows(r)[0]?.n);

  it('are prepared, in transactions and in pipelined ones, so none waits for a describe round trip', async () => {
    const inTransaction = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select ${1}::int as marker_tx`);
      return preparedHere(tx, 'marker_tx');
    });
    expect(inTransaction).toBe(1);
    const pipelined = await pipelinedTransaction(database.db, async ({ tx, send }) => {
      await send([sql`select ${2}::int as marker_pipe`], false);
      return preparedHere(tx, 'marker_pipe');
    });
    expect(pipelined).toBe(1);
  });
});
