import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, getTableColumns, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Executor } from '../db/client.js';
import { changeFeedState, executionChangeMarks, executionChanges, executions } from '../db/schema.js';
import { type Bound, columnsOf, decoderOf, fixed } from '../db/statement-cache.js';
import type { Principal } from './access.js';
import { VigilError } from './errors.js';
import { filterConditions } from './filters.js';
import type { ExecutionFilter } from './inputs.js';
import type { Execution } from './types.js';

/**
 * A place in the change log (API.md §9): every change row at or below it has been seen. Rows are ordered by the id of
 * the transaction that wrote them, then by their own number; a frontier `F` (`pg_snapshot_xmin`) is the place
 * `(F, 0)`, below every row of transaction F. ARCHITECTURE.md "The change log" has the argument.
 */
export interface Position {
  xid: bigint;
  seq: bigint;
}

export function comparePositions(a: Position, b: Position): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

export const laterOf = (a: Position, b: Position): Position => (comparePositions(a, b) >= 0 ? a : b);

/** A change row with its execution as it is now. */
export interface ChangeRow {
  position: Position;
  execution: Execution;
}

export interface FeedState {
  /** Below it every transaction has ended: the rows under it are final. */
  frontier: Position;
  /** Pruned up to here: a cursor below it is expired. */
  horizon: Position;
  /** Committed rows already wait at or above the frontier (an older transaction still runs): read again soon. */
  held: boolean;
}

const rowsOf = (result: unknown): Record<string, unknown>[] =>
  (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as Record<string, unknown>[];

/**
 * Whether a row waits at or above `frontier`: the newest row's id compared with it, one step down the primary key's
 * index from its end. An `exists (… where xid >= frontier)` is planned as a scan of the table that stops at the first
 * row it finds, and while nothing is held (most of the time) it found none: it read the whole log, every read.
 */
const heldAbove = (frontier: SQL) =>
  sql`coalesce((select h.xid >= ${frontier} from execution_changes h order by h.xid desc, h.seq desc limit 1), false)`;

/** `readFeedState`'s statement (exported for the test that reads its plan). */
export const feedStateStatement = sql`select pg_snapshot_xmin(pg_current_snapshot())::text as frontier,
  s.horizon_xid::text as horizon_xid, s.horizon_seq::text as horizon_seq,
  ${heldAbove(sql`pg_snapshot_xmin(pg_current_snapshot())`)} as held
  from change_feed_state s where s.id = 1`;

/** The frontier, the horizon and whether rows wait above the frontier, in one statement (one snapshot). */
export async function readFeedState(db: Executor): Promise<FeedState> {
  const [row] = rowsOf(await db.execute(feedStateStatement));
  if (!row) throw new VigilError('INTERNAL', 'The change feed state row is missing');
  return {
    frontier: { xid: BigInt(row.frontier as string), seq: 0n },
    horizon: { xid: BigInt(row.horizon_xid as string), seq: BigInt(row.horizon_seq as string) },
    held: row.held === true,
  };
}

const EXECUTION_COLUMNS = getTableColumns(executions);
const EXECUTION_ENTRIES = columnsOf(executions);
/** A change row's execution, by where its columns start (after the position and the extra columns): made once each. */
const decoders = new Map<number, (values: readonly unknown[]) => Execution>();
const decoderAt = (first: number) => {
  let decode = decoders.get(first);
  if (!decode) {
    decode = decoderOf<Execution>(EXECUTION_ENTRIES, first);
    decoders.set(first, decode);
  }
  return decode;
};
const position = { xid: sql<string>`${executionChanges.xid}::text`, seq: sql<string>`${executionChanges.seq}::text` };

/** A read of change rows: the position, `extra` text columns, then the execution's columns, in this order. */
export interface ChangeSelect extends SQLWrapper {
  toSQL(): { sql: string; params: unknown[] };
  then: PromiseLike<Record<string, unknown>[]>['then'];
}

/**
 * Runs a change read and decodes its rows. On PostgreSQL the statement drizzle built runs on postgres.js directly and
 * each row is decoded in one pass with the columns' own mappers (as `preparedRows` does): drizzle's generic mapping of
 * a nested selection cost more than the read itself for the 100,000 rows of a replay. PGlite runs drizzle's query.
 */
async function changeRows(
  db: Executor,
  query: () => ChangeSelect,
  extra: readonly string[],
  /** The statement built before (PostgreSQL), instead of the query's own. */
  statement?: () => Bound,
): Promise<{ row: ChangeRow | null; extra: unknown[] }[]> {
  const client = (db as unknown as { $client?: Partial<postgres.Sql> }).$client;
  if (!client || typeof client.unsafe !== 'function' || typeof client.reserve !== 'function') {
    const rows = await query();
    return rows.map((r) => {
      const execution: Record<string, unknown> = {};
      for (const [key] of EXECUTION_ENTRIES) execution[key] = r[key];
      return {
        row:
          r.xid == null
            ? null
            : {
                position: { xid: BigInt(r.xid as string), seq: BigInt(r.seq as string) },
                execution: execution as Execution,
              },
        extra: extra.map((k) => r[k]),
      };
    });
  }
  const bound = statement?.();
  const { sql: text, params } = bound ? { sql: bound.query.sql, params: bound.params } : query().toSQL();
  const rows = await client.unsafe(text, params as never[], { prepare: true }).values();
  const first = 2 + extra.length;
  const decode = decoderAt(first);
  return rows.map((r) => {
    if (r[0] == null) return { row: null, extra: r.slice(2, first) };
    return {
      row: {
        position: { xid: BigInt(r[0] as string), seq: BigInt(r[1] as string) },
        execution: decode(r),
      },
      extra: r.slice(2, first),
    };
  });
}

/**
 * Change rows above `after` and below the frontier `below` (whose transactions have all ended, so the set is final),
 * in position order, joined with their executions as they are now; for one tenant and filter (a replay) or for all
 * (the process's tail). The filter is the list's own SQL (`filterConditions`). With them, the horizon read by the same
 * statement (null when no row came back): one snapshot, so a prune that took rows from under the read shows in it.
 */
export async function readChanges(db: Executor, options: ChangesOptions): Promise<ChangeRow[]> {
  return (await readChangesWithHorizon(db, options)).rows;
}

export async function readChangesWithHorizon(
  db: Executor,
  options: ChangesOptions,
): Promise<{ rows: ChangeRow[]; horizon: Position | null }> {
  const rows = await changeRows(db, () => changesQuery(db, options), ['horizon']);
  const horizon = rows[0]?.extra[0];
  return { rows: rowsIn(rows), horizon: typeof horizon === 'string' ? positionOf(horizon) : null };
}

type ChangesOptions = {
  after: Position;
  below: bigint;
  limit: number;
  tenant?: Principal;
  filter?: ExecutionFilter | null;
};

/** The statement of `readChangesWithHorizon` (exported for the tests that read its plan). */
export function changesQuery(db: Executor, options: ChangesOptions): ChangeSelect {
  const { after, below, limit, tenant, filter } = options;
  const conditions: SQL[] = [
    sql`(${executionChanges.xid}, ${executionChanges.seq}) > (${after.xid.toString()}::xid8, ${after.seq.toString()}::bigint)`,
    sql`${executionChanges.xid} < ${below.toString()}::xid8`,
  ];
  if (tenant) {
    conditions.push(
      eq(executionChanges.organizationId, tenant.organizationId),
      eq(executionChanges.environment, tenant.environment),
      ...filterConditions(filter),
    );
  }
  const query = db
    .select({
      ...position,
      horizon: sql<string>`(select horizon_xid::text || '.' || horizon_seq::text from change_feed_state where id = 1)`,
      ...EXECUTION_COLUMNS,
    })
    .from(executionChanges)
    .innerJoin(executions, eq(executions.id, executionChanges.executionId))
    .where(and(...conditions))
    .orderBy(asc(executionChanges.xid), asc(executionChanges.seq))
    .limit(limit);
  return query as unknown as ChangeSelect;
}

function rowsIn(rows: { row: ChangeRow | null }[]): ChangeRow[] {
  const out: ChangeRow[] = [];
  for (const r of rows) if (r.row) out.push(r.row);
  return out;
}

const positionOf = (text: string): Position => {
  const [xid, seq] = text.split('.');
  return { xid: BigInt(xid as string), seq: BigInt(seq as string) };
};

/**
 * The tail's read in one statement (one round trip): the rows after `after` below the frontier of this statement's
 * own snapshot, with that frontier, the horizon and whether rows wait above it. The rule holds within one
 * statement: every transaction below the snapshot's xmin had ended when the snapshot was taken, so the statement
 * sees all of their rows. The state is a one-row derived table the rows are left-joined to, so it comes back when
 * no row is below the frontier too (a row of nulls but the state): while an older transaction holds the frontier,
 * most reads find nothing new, and each such read is still one statement.
 */
export async function readTail(
  db: Executor,
  after: Position,
  limit: number,
): Promise<{ rows: ChangeRow[]; state: FeedState | null }> {
  const rows = await changeRows(
    db,
    () => tailQuery(db, after, limit),
    ['frontier', 'horizon', 'held'],
    () => tailStatement(db, after, limit),
  );
  const first = rows[0]?.extra;
  return {
    rows: rowsIn(rows),
    state: first
      ? {
          frontier: { xid: BigInt(first[0] as string), seq: 0n },
          horizon: positionOf(first[1] as string),
          held: first[2] === 'true',
        }
      : null,
  };
}

/** The statement of `readTail` (exported for the test that holds its plan to the index over a backlog). */
export function tailQuery(db: Executor, after: Position, limit: number): ChangeSelect {
  return tailSelect(db, after.xid.toString(), after.seq.toString(), limit);
}

/** The tail's statement with placeholders for its position, per page size: built once. */
const tailStatements = new Map<number, (values: Record<string, unknown>) => Bound>();

/**
 * `tailQuery`'s statement as PostgreSQL runs it: built once, its position filled in (drizzle took about 0.6 ms of CPU
 * to build it, on every read of the tail: at 1,000 commits/s, reads back to back). PGlite runs drizzle's query.
 */
export function tailStatement(db: Executor, after: Position, limit: number): Bound {
  let bind = tailStatements.get(limit);
  if (!bind) {
    // The same text on every database (drizzle's PostgreSQL dialect): built once per process.
    bind = fixed(tailSelect(db, sql.placeholder('xid'), sql.placeholder('seq'), limit));
    tailStatements.set(limit, bind);
  }
  return bind({ xid: after.xid.toString(), seq: after.seq.toString() });
}

/** The tail's statement, its position given as values or as placeholders. */
function tailSelect(db: Executor, xid: unknown, seq: unknown, limit: number): ChangeSelect {
  // The rows ordered and limited in their own (lateral) subquery, so the index hands them over in order and the
  // limit stops the scan: a join to the whole range, ordered after, sorted every row below the frontier first.
  const found = db
    .select({
      xid: sql<string>`${executionChanges.xid}::text`.as('change_xid'),
      seq: sql<string>`${executionChanges.seq}::text`.as('change_seq'),
      ...EXECUTION_COLUMNS,
    })
    .from(executionChanges)
    .innerJoin(executions, eq(executions.id, executionChanges.executionId))
    .where(
      and(
        sql`(${executionChanges.xid}, ${executionChanges.seq}) > (${xid}::xid8, ${seq}::bigint)`,
        sql`${executionChanges.xid} < snapshot.frontier`,
      ),
    )
    .orderBy(asc(executionChanges.xid), asc(executionChanges.seq))
    .limit(limit)
    .as('found');
  const columns = Object.fromEntries(EXECUTION_ENTRIES.map(([key]) => [key, found[key as keyof typeof found]]));
  const query = db
    .select({
      xid: found.xid,
      seq: found.seq,
      frontier: sql<string>`snapshot.frontier::text`,
      horizon: sql<string>`(select horizon_xid::text || '.' || horizon_seq::text from change_feed_state where id = 1)`,
      held: sql<string>`snapshot.held::text`,
      ...columns,
    })
    // The state in the one-row table (`held` looked up once), the rows left-joined to it.
    .from(
      sql`(select x.frontier, ${heldAbove(sql`x.frontier`)} as held
        from (select pg_snapshot_xmin(pg_current_snapshot()) as frontier) x) snapshot`,
    )
    .leftJoinLateral(found, sql`true`)
    .orderBy(sql`${found.xid}::xid8`, sql`${found.seq}::bigint`);
  return query as unknown as ChangeSelect;
}

/** Signs and checks cursors with the database's key: only a cursor this database's servers issued is accepted. */
export interface CursorCodec {
  encode(principal: Principal, position: Position): string;
  decode(principal: Principal, cursor: string): Position;
}

const codecs = new WeakMap<object, Promise<CursorCodec>>();

/** The codec of a database (its key read once per process). */
export function cursorCodec(db: Executor): Promise<CursorCodec> {
  let codec = codecs.get(db);
  if (!codec) {
    codec = db
      .select({ secret: changeFeedState.secret })
      .from(changeFeedState)
      .where(eq(changeFeedState.id, 1))
      .then(([row]) => {
        if (!row) throw new VigilError('INTERNAL', 'The change feed state row is missing');
        return codecOf(row.secret);
      });
    codec.catch(() => codecs.delete(db));
    codecs.set(db, codec);
  }
  return codec;
}

const CURSOR = /^(\d{1,20})\.(\d{1,20})\.([A-Za-z0-9_-]{22})$/;

/**
 * `xid.seq.mac`: the mac (HMAC-SHA256, 128 bits) covers the tenant too, so a cursor is good only where it was
 * issued. Cursors are opaque to clients; the numbers are readable only to ease debugging.
 */
export function codecOf(secret: string): CursorCodec {
  // HMAC-SHA256 as RFC 2104 defines it, with the key's two padded blocks made once: each cursor is then two one-shot
  // hashes, where createHmac set up the key again for every one (a replay signs 100,000 cursors). The same bytes.
  let key = Buffer.from(secret);
  if (key.length > 64) key = createHash('sha256').update(key).digest();
  const block = Buffer.alloc(64);
  key.copy(block);
  const inner = block.map((b) => b ^ 0x36);
  const outer = block.map((b) => b ^ 0x5c);
  const mac = (p: Principal, body: string) => {
    const message = Buffer.from(`${p.organizationId}\u0000${p.environment}\u0000${body}`);
    const digest = hash('sha256', Buffer.concat([inner, message], 64 + message.length), 'buffer');
    return hash('sha256', Buffer.concat([outer, digest], 96), 'buffer')
      .subarray(0, 16)
      .toString('base64url');
  };
  return {
    encode: (principal, { xid, seq }) => {
      const body = `${xid}.${seq}`;
      return `${body}.${mac(principal, body)}`;
    },
    decode: (principal, cursor) => {
      const m = CURSOR.exec(cursor);
      const body = m && `${m[1]}.${m[2]}`;
      if (!m || !body || !sameMac(mac(principal, body), m[3] as string)) {
        throw cursorError(
          'after is not a cursor this server issued to you: resume from the cursor of the last change you ' +
            'processed, or take a new one with executionChangesCursor (then re-read the executions you follow)',
          'forged',
        );
      }
      return { xid: BigInt(m[1] as string), seq: BigInt(m[2] as string) };
    },
  };
}

function sameMac(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cursorError(message: string, type: string): VigilError {
  return new VigilError('VALIDATION_FAILED', message, { issues: [{ loc: ['after'], msg: message, type }] });
}

/** Throws VALIDATION_FAILED when the log no longer holds everything after `position` (API.md §9). */
export function requireRetained(position: Position, state: FeedState): void {
  if (comparePositions(position, state.horizon) >= 0) return;
  throw cursorError(
    'after is older than the change feed keeps (VIGIL_CHANGES_RETENTION_HOURS): its changes were pruned. Take a new cursor with ' +
      'executionChangesCursor, re-read the executions you follow, then resume from that cursor',
    'expired',
  );
}

const PRUNE_BATCH = 5000;

/**
 * Marks the frontier now, then deletes the rows below the newest mark older than the retention, in short batches
 * (a long transaction would hold every consumer's frontier back), each raising the horizon in its own transaction.
 * Several instances may run it at once: the deletes and `greatest` agree. Returns the rows deleted.
 */
export async function pruneChanges(db: Executor, retentionHours: number, now: Date): Promise<number> {
  await db.execute(sql`insert into execution_change_marks (frontier, marked_at)
    values (pg_snapshot_xmin(pg_current_snapshot()), ${now.toISOString()}::timestamptz) on conflict do nothing`);
  const cutoff = new Date(now.getTime() - retentionHours * 3_600_000);
  const [mark] = rowsOf(
    await db.execute(sql`select max(frontier)::text as frontier from execution_change_marks
      where marked_at <= ${cutoff.toISOString()}::timestamptz`),
  );
  if (!mark?.frontier) return 0;
  const target = BigInt(mark.frontier as string);
  let deleted = 0;
  for (let done = false; !done; ) {
    const batch = await db.transaction(async (tx) => {
      // The last row of this batch, or none when fewer remain: then the horizon becomes (target, 0).
      const [edge] = rowsOf(
        await tx.execute(sql`select xid::text as xid, seq::text as seq from execution_changes
          where xid < ${target.toString()}::xid8 order by xid, seq offset ${PRUNE_BATCH - 1} limit 1`),
      );
      const to = sql.raw(
        edge
          ? `('${BigInt(edge.xid as string)}'::xid8, ${BigInt(edge.seq as string)}::bigint)`
          : `('${target}'::xid8, 0::bigint)`,
      );
      const [counted] = rowsOf(
        await tx.execute(sql`with d as (delete from execution_changes where (xid, seq) <= ${to} returning 1)
          select count(*)::int as n from d`),
      );
      await tx.execute(sql`update change_feed_state set (horizon_xid, horizon_seq) = ${to}
        where id = 1 and (horizon_xid, horizon_seq) < ${to}`);
      return { n: Number(counted?.n ?? 0), last: !edge };
    });
    deleted += batch.n;
    done = batch.last;
  }
  await db.delete(executionChangeMarks).where(sql`${executionChangeMarks.frontier} < ${target.toString()}::xid8`);
  return deleted;
}
