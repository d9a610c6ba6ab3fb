import { type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { type Principal, requireScope } from './access.js';
import type { DomainContext } from './context.js';
import { TERMINAL_STATUSES } from './types.js';

/** What is due (API.md §10): trees whose every member is terminal, completed before `cutoff` and not pinned. */
export interface RetentionRule {
  cutoff: Date;
  /** Only trees whose root runs this workflow (`vigil purge --workflow`). */
  workflowId?: string | undefined;
}

export interface Deleted {
  executions: number;
  /** Events of every kind, LOG lines included (an execution's events are numbered 1…lastSequence, no gaps). */
  events: number;
}

/** Where a pass has got to: the last root it claimed, in completion order. */
export interface PassPosition {
  completedAt: string;
  id: string;
}

export interface Batch extends Deleted {
  /** Roots claimed (some may have been kept on the re-check); fewer than asked means the pass is done. */
  claimed: number;
  last: PassPosition | null;
}

const TERMINAL = sql.raw(TERMINAL_STATUSES.map((s) => `'${s}'`).join(','));

const rowsOf = (result: unknown): Record<string, unknown>[] =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];

/**
 * The rule on the root `r`, as one SQL condition, used by every reader and writer here (the job, `vigil purge` and its
 * dry run): `r` is a root, due itself, and no member of its tree (`root_execution_id`, the root included) is
 * non-terminal, young or pinned. `completed_at` is set exactly when an execution becomes terminal; the status is
 * checked too so that a hand-edited row cannot slip through. The subquery is fenced (`offset 0`) so that it stays one
 * probe of `executions_root_idx` per root: turned into an anti-join, the planner scanned every execution per batch
 * whenever its statistics said few were young or pinned.
 */
function treeIsDue(rule: RetentionRule): SQL {
  const cutoff = sql`${rule.cutoff.toISOString()}::timestamptz`;
  return sql`r.parent_execution_id is null and r.completed_at is not null and not r.pinned
    and r.completed_at < ${cutoff} and r.status in (${TERMINAL})
    ${rule.workflowId === undefined ? sql`` : sql`and r.workflow_id = ${rule.workflowId}`}
    and not exists (select 1 from executions m where m.root_execution_id = r.id
      and (m.pinned or m.completed_at is null or m.completed_at >= ${cutoff} or m.status not in (${TERMINAL})) offset 0)`;
}

/**
 * Deletes up to `limit` due trees, oldest first, after `after`, in one transaction of two statements, and says what
 * went.
 *
 * Every instance may run this at once: roots are claimed `FOR UPDATE SKIP LOCKED`, so two passes take disjoint roots
 * and therefore disjoint trees (a member belongs to the tree of its one root). The same statement locks the members,
 * `SKIP LOCKED` too: retention never waits for a row lock, so it can take part in no deadlock and holds up no writer.
 * A member locked by someone else (a worker's late batch, a cascade, a child being inserted under it: its insert
 * holds the parent `FOR KEY SHARE`) leaves its tree for a later pass. Once every member is held no member can change
 * and none can be added (a child needs its parent's lock), so the second statement checks the rule again on a fresh
 * snapshot, with "every member is one we hold", and deletes only the trees that pass: an execution is deleted once,
 * and a tree that gained a running child or a pin meanwhile (a pin locks the root first, `setExecutionPinned`) is
 * kept whole.
 *
 * Two statements rather than one per table: the job runs in the process that serves ingest, where each round trip
 * waits its turn behind the requests in the event loop, so under load a batch's time (and the pause after it) is
 * mostly its round trips (`bench/retention.ts`, README "What it costs on disk").
 */
export async function deleteDueBatch(
  db: Executor,
  rule: RetentionRule,
  limit: number,
  after: PassPosition | null = null,
): Promise<Batch> {
  return db.transaction(async (tx) => {
    const from = after
      ? sql`and (r.completed_at, r.id) > (${after.completedAt}::timestamptz, ${after.id}::uuid)`
      : sql``;
    const rows = rowsOf(
      await tx.execute(sql`with claimed as (
          select r.id, r.completed_at from executions r where ${treeIsDue(rule)} ${from}
          order by r.completed_at, r.id limit ${limit} for update of r skip locked
        ), held as (
          select m.id from executions m where m.root_execution_id = any(array(select id from claimed))
          order by m.id for update skip locked
        )
        select 'root' as kind, id::text as id, to_char(completed_at at time zone 'UTC',
          'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as completed_at from claimed
        union all select 'member', id::text, null from held`),
    );
    const claimed = rows
      .filter((r) => r.kind === 'root')
      .map((r) => ({ completedAt: String(r.completed_at), id: String(r.id) }))
      .sort((a, b) =>
        a.completedAt === b.completedAt ? (a.id < b.id ? -1 : 1) : a.completedAt < b.completedAt ? -1 : 1,
      );
    const last = claimed[claimed.length - 1] ?? null;
    if (claimed.length === 0) return { claimed: 0, last, executions: 0, events: 0 };
    const roots = pgArray(claimed.map((r) => r.id));
    const held = pgArray(rows.filter((r) => r.kind === 'member').map((r) => String(r.id)));
    const deleted = await deleteTrees(
      tx,
      sql`select r.id from executions r where r.id = any(${roots}::uuid[]) and ${treeIsDue(rule)}
        and not exists (select 1 from executions m where m.root_execution_id = r.id and m.id <> all(${held}::uuid[])
          offset 0)`,
    );
    return { claimed: claimed.length, last, ...deleted };
  });
}

/**
 * Deletes the trees of the roots `still` selects (locked by the caller) with everything of their own, in one
 * statement. No table has a foreign key to `executions` any more, so nothing is checked or cascaded row by row: the
 * delete of the execution rows fires the statement triggers that take their events (and so their message lineage,
 * 0011, 0014), log lines (0010), batch idempotency keys and tag index rows (0012), each one statement over the set
 * found by index probes; webhook deliveries (their attempts go by cascade) and the change log are deleted here,
 * idempotency keys and steps are columns of the execution row. The member set is read into an array
 * (`= any(array(…))`), so that every delete is an index probe whatever the planner guesses of its size
 * (`bench/explain-retention.ts` prints the plans). `test/retention/tables.test.ts` fails when a table that refers to
 * an execution is not emptied.
 */
async function deleteTrees(tx: Executor, still: SQL): Promise<Deleted> {
  const [gone] = rowsOf(
    await tx.execute(sql`with members as materialized (
        select array(select m.id from executions m where m.root_execution_id in (${still})) as ids
      ), deliveries as (delete from webhook_deliveries where execution_id = any((select ids from members)::uuid[]))
      , changes as (delete from execution_changes where execution_id = any((select ids from members)::uuid[]))
      , d as (delete from executions where id = any((select ids from members)::uuid[]) returning last_sequence)
      select count(*)::int as n, coalesce(sum(last_sequence), 0)::bigint::text as events from d`),
  );
  return { executions: Number(gone?.n ?? 0), events: Number(gone?.events ?? 0) };
}

/** What `deleteDue` would delete now (`vigil purge --dry-run`): the same rule, read without deleting. */
export async function countDue(db: Executor, rule: RetentionRule): Promise<Deleted> {
  const [row] = rowsOf(
    await db.execute(sql`select count(*)::int as n, coalesce(sum(m.last_sequence), 0)::bigint::text as events
      from executions r join executions m on m.root_execution_id = r.id where ${treeIsDue(rule)}`),
  );
  return { executions: Number(row?.n ?? 0), events: Number(row?.events ?? 0) };
}

export interface PassOptions {
  batch: number;
  /** Called after each batch with what it deleted (metrics, a progress bar). */
  onBatch?: (deleted: Deleted) => void;
  /** Waited between batches, given how long the batch took: the job yields the database to ingest and reads. */
  pause?: (batchMs: number) => Promise<void>;
  /** Checked between batches: a stopping server ends its pass early. */
  stopped?: () => boolean;
}

/** One pass over everything due now, in bounded batches (the job's pass and `vigil purge`). */
export async function deleteDue(db: Executor, rule: RetentionRule, options: PassOptions): Promise<Deleted> {
  const total = { executions: 0, events: 0 };
  let after: PassPosition | null = null;
  for (;;) {
    const started = performance.now();
    const batch: Batch = await deleteDueBatch(db, rule, options.batch, after);
    total.executions += batch.executions;
    total.events += batch.events;
    if (batch.executions > 0) options.onBatch?.(batch);
    if (batch.claimed < options.batch || options.stopped?.()) return total;
    after = batch.last;
    await options.pause?.(performance.now() - started);
  }
}

/** The completion time of the oldest terminal execution retention may delete some day (not pinned), or null. */
export async function oldestTerminal(db: Executor): Promise<Date | null> {
  const [row] = rowsOf(
    await db.execute(sql`select completed_at from executions where completed_at is not null and not pinned
      order by completed_at limit 1`),
  );
  const at = row?.completed_at;
  return at == null ? null : new Date(at as string | Date);
}

export interface RetentionInfo {
  /** This instance's VIGIL_RETENTION_DAYS; 0 keeps everything. */
  days: number;
  /** When the tenant's oldest execution still kept was created, or null when it has none. */
  oldestExecutionAt: Date | null;
}

/** What a dashboard shows of retention (API.md §10): the period, and how far back the tenant's executions go. */
export async function retentionInfo(ctx: DomainContext, principal: Principal): Promise<RetentionInfo> {
  requireScope(principal, 'executions:read');
  // the tenant's range of executions_tenant_created_idx, read from its oldest end
  const [row] = rowsOf(
    await ctx.db.execute(sql`select created_at from executions
      where organization_id = ${principal.organizationId} and environment = ${principal.environment}::environment
      order by created_at, id limit 1`),
  );
  const at = row?.created_at;
  return { days: ctx.retentionDays ?? 0, oldestExecutionAt: at == null ? null : new Date(at as string | Date) };
}
