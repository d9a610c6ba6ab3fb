/**
 * `npx tsx bench/partition.ts`: the partitioning experiment of issue 20 (item 5), thrown away after: is
 * `execution_events` cheaper to keep and to delete when partitioned by time (PostgreSQL's declarative partitioning,
 * one partition a day)? Starts a PostgreSQL, migrates, seeds BACKLOG (default 20,000) due executions of 20 events as
 * the retention bench does (12 in execution_events, 8 lines in execution_logs), copies their events into
 * `events_by_day` (the same columns, partitioned by `recorded_at`, 31 daily partitions: the backlog's day and 30 of
 * live data; the primary key must hold the partition key, so it is (execution_id, sequence, recorded_at)), then, in
 * alternating rounds: single-row inserts at c=16 into each table (the ingest path's statement), a replay read of one
 * execution's events (`sequence > n order by sequence limit 100`) on each, and finally the backlog's deletion: rows by
 * execution in batches of 500 (what retention does) from the plain table, against dropping the backlog's partition.
 * Prints JSON.
 */
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { startPostgres } from '../test/support/postgres.js';
import { seedBacklog } from './retention.js';

const log = (m: string) => process.stderr.write(`[partition] ${m}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const BACKLOG = Number(process.env.BACKLOG ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);

const pg = await startPostgres({ durable: true });
try {
  const database = await openDatabase({ databaseUrl: pg.url, poolSize: 2 });
  await database.close();
  const sql = postgres(pg.url, { max: 17, onnotice: () => {} });
  log(`seeding ${BACKLOG} due executions of 20 events`);
  await seedBacklog(sql, BACKLOG);
  const day = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  await sql`create table events_by_day (like execution_events including defaults) partition by range (recorded_at)`;
  await sql`alter table events_by_day add primary key (execution_id, sequence, recorded_at)`;
  await sql`alter table events_by_day add foreign key (execution_id) references executions (id) on delete cascade`;
  for (let d = -1; d <= 42; d++) {
    await sql.unsafe(`create table events_by_day_${day(d).replaceAll('-', '_')} partition of events_by_day
      for values from ('${day(d)}') to ('${day(d - 1)}')`);
  }
  await sql`insert into events_by_day select * from execution_events`;
  await sql`vacuum analyze`;

  const bytes = async (table: string) =>
    Number(
      (
        await sql`select greatest(pg_total_relation_size(${table}::regclass),
            (select coalesce(sum(pg_total_relation_size(relid)), 0) from pg_partition_tree(${table}::regclass)))::bigint::text as n`
      )[0]?.n,
    );
  const plainBytes = await bytes('execution_events');
  const partitionedBytes = await bytes('events_by_day');
  const live: string[] = Array.from({ length: 32 }, () => crypto.randomUUID());
  await sql`insert into executions (id, organization_id, environment, workflow_id, status, trigger, root_execution_id,
      last_sequence, created_at, updated_at)
    select id::uuid, 'default', 'test', 'live', 'RUNNING', '{"type":"manual"}', id::uuid, 0, now(), now()
    from unnest(${live}::text[]) id`;
  const next = new Map(live.map((id) => [id, 0]));
  /** Single-row inserts at c=16 for SECONDS into `table`: rows per second. */
  const ingest = async (table: string) => {
    const until = performance.now() + SECONDS * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; performance.now() < until; i++) {
          const id = live[(w * 2 + (i % 2)) % live.length] as string;
          const seq = (next.get(id) ?? 0) + 1;
          next.set(id, seq);
          await sql.unsafe(
            `insert into ${table} (execution_id, sequence, type, payload, occurred_at, recorded_at)
             values ($1, $2, 'PROGRESS', '{"percentage":50}', now(), now())`,
            [id, seq],
          );
          n++;
        }
      }),
    );
    return n / SECONDS;
  };
  const backlogIds = (await sql`select id::text as id from executions where workflow_id = 'backlog'`).map((r) =>
    String(r.id),
  );
  /** Replay reads of backlog executions' events (as a stream's catch-up reads them): ms per read. */
  const replay = async (table: string) => {
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await sql.unsafe(
        `select sequence, type, payload from ${table} where execution_id = $1 and sequence > 0 order by sequence limit 100`,
        [backlogIds[(i * 7919) % backlogIds.length] as string],
      );
    }
    return (performance.now() - t0) / n;
  };
  const figures: Record<string, number[]> = {
    plain_insert_rows_per_s: [],
    partitioned_insert_rows_per_s: [],
    plain_replay_ms: [],
    partitioned_replay_ms: [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    figures.plain_insert_rows_per_s?.push(round(await ingest('execution_events'), 0));
    figures.partitioned_insert_rows_per_s?.push(round(await ingest('events_by_day'), 0));
    figures.plain_replay_ms?.push(round(await replay('execution_events'), 3));
    figures.partitioned_replay_ms?.push(round(await replay('events_by_day'), 3));
    log(JSON.stringify(figures));
  }

  log('deleting the backlog: by execution from the plain table, by partition from the other');
  const t0 = performance.now();
  for (let i = 0; i < backlogIds.length; i += 500) {
    await sql`delete from execution_events where execution_id = any(${backlogIds.slice(i, i + 500)}::uuid[])`;
  }
  const plainDelete = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await sql.unsafe(`drop table events_by_day_${day(41).replaceAll('-', '_')}`);
  const partitionDrop = (performance.now() - t1) / 1000;
  const median = (xs: number[] = []) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  process.stdout.write(
    `${JSON.stringify(
      {
        backlog_executions: BACKLOG,
        events_per_execution_in_table: 12,
        plain_bytes_per_execution: round(plainBytes / BACKLOG, 0),
        partitioned_bytes_per_execution: round(partitionedBytes / BACKLOG, 0),
        plain_delete_s: round(plainDelete, 2),
        partition_drop_s: round(partitionDrop, 3),
        plain_insert_rows_per_s: median(figures.plain_insert_rows_per_s),
        partitioned_insert_rows_per_s: median(figures.partitioned_insert_rows_per_s),
        insert_ratio: round(median(figures.partitioned_insert_rows_per_s) / median(figures.plain_insert_rows_per_s), 3),
        plain_replay_ms: median(figures.plain_replay_ms),
        partitioned_replay_ms: median(figures.partitioned_replay_ms),
        rounds: figures,
        load_1m: Number((await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      },
      null,
      2,
    )}\n`,
  );
  await sql.end();
} finally {
  await pg.stop();
}
