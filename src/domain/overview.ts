import { and, desc, gte, isNotNull, lt, sql } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { VigilError } from './errors.js';
import { parseFilter } from './executions.js';
import { filterConditions, tagJoins, withoutTags } from './filters.js';
import { isoDateTime, parse } from './inputs.js';
import { tenantOf } from './tenant.js';
import { EXECUTION_STATUSES, type ExecutionStatus } from './types.js';

/** The widest range one overview covers, and the most buckets it returns: both keep it one index range scan. */
export const OVERVIEW_MAX_DAYS = 31;
export const OVERVIEW_MAX_BUCKETS = 200;
/** The workflows with the most finished executions in the range; the rest are left out of `workflows`. */
const TOP_WORKFLOWS = 20;

export interface OverviewBucket {
  start: Date;
  total: number;
  byStatus: { status: ExecutionStatus; count: number }[];
}

export interface WorkflowDurations {
  workflowId: string;
  /** Finished executions (completedAt set) in the range, the ones the percentiles are taken over. */
  finished: number;
  p50Ms: number;
  p95Ms: number;
}

export interface ExecutionOverview {
  from: Date;
  to: Date;
  bucketSeconds: number;
  buckets: OverviewBucket[];
  workflows: WorkflowDurations[];
}

export interface OverviewArgs {
  filter?: unknown;
  from: string;
  to: string;
  bucketSeconds: number;
}

/** Milliseconds to the microsecond: the interpolation's float noise (3849.9999999999995) is not information. */
const ms = (v: unknown) => Math.max(0, Math.round(Number(v) * 1000) / 1000);

function refuse(loc: string, msg: string): never {
  throw new VigilError('VALIDATION_FAILED', `${loc} ${msg}`, { issues: [{ loc: [loc], msg, type: 'value_error' }] });
}

/** The two reads of an overview, validated and built but not run (the index test explains them). */
export function overviewQueries(db: Executor, principal: Principal, args: OverviewArgs) {
  requireScope(principal, 'executions:read');
  const filter = parseFilter(args.filter);
  const from = new Date(parse(isoDateTime, args.from, ['from']));
  const to = new Date(parse(isoDateTime, args.to, ['to']));
  const bucketSeconds = args.bucketSeconds;
  if (!(to > from)) refuse('to', 'must be after from');
  if (to.getTime() - from.getTime() > OVERVIEW_MAX_DAYS * 86_400_000)
    refuse('to', `must be at most ${OVERVIEW_MAX_DAYS} days after from`);
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) refuse('bucketSeconds', 'must be a positive integer');
  const count = Math.ceil((to.getTime() - from.getTime()) / (bucketSeconds * 1000));
  if (count > OVERVIEW_MAX_BUCKETS)
    refuse('bucketSeconds', `makes ${count} buckets; at most ${OVERVIEW_MAX_BUCKETS} (use a wider bucket)`);

  // With tags, the range is also a range of the first pair's rows in execution_tags_pair_idx (same created_at).
  const tags = tagJoins(principal, filter);
  const where = and(
    tenantOf(principal),
    ...filterConditions(withoutTags(filter)),
    gte(executions.createdAt, from),
    lt(executions.createdAt, to),
    ...tags.flatMap((t, i) =>
      i === 0 ? [t.where, gte(t.table.createdAt, from), lt(t.table.createdAt, to)] : [t.where],
    ),
  );
  const joined = <Q extends PgSelect>(query: Q): Q => {
    let q = query;
    for (const t of tags) q = q.innerJoin(t.table, t.on()) as unknown as Q;
    return q;
  };
  const fromIso = from.toISOString();
  const bucket = sql<number>`floor(extract(epoch from (${executions.createdAt} - ${fromIso}::timestamptz)) / ${bucketSeconds})::int`;
  const byBucket = joined(
    db.select({ bucket, status: executions.status, count: sql<number>`count(*)::int` }).from(executions).$dynamic(),
  )
    .where(where)
    .groupBy(sql`1`, executions.status);

  const duration = sql`extract(epoch from (${executions.completedAt} - greatest(${executions.startedAt}, ${executions.createdAt}))) * 1000`;
  const finished = sql<number>`count(*)::int`;
  const byWorkflow = joined(
    db
      .select({
        workflowId: executions.workflowId,
        finished,
        p50: sql<number>`percentile_cont(0.5) within group (order by ${duration})`,
        p95: sql<number>`percentile_cont(0.95) within group (order by ${duration})`,
      })
      .from(executions)
      .$dynamic(),
  )
    .where(and(where, isNotNull(executions.completedAt)))
    .groupBy(executions.workflowId)
    .orderBy(desc(finished), executions.workflowId)
    .limit(TOP_WORKFLOWS);

  return { from, to, bucketSeconds, count, byBucket, byWorkflow };
}

/**
 * Executions created in [from, to) that match the filter: how many per time bucket and status, and the median and
 * 95th percentile duration per workflow (of those that finished). The range is bounded (at most 31 days and 200
 * buckets) so the read is one bounded range of `executions_tenant_created_idx` (or of the index a narrower filter
 * picks), never the whole table.
 */
export async function executionOverview(
  db: Executor,
  principal: Principal,
  args: OverviewArgs,
): Promise<ExecutionOverview> {
  const q = overviewQueries(db, principal, args);
  const { from, to, bucketSeconds, count } = q;
  const byBucket = await q.byBucket;
  const byWorkflow = await q.byWorkflow;

  const counts = new Map<string, number>();
  for (const r of byBucket) counts.set(`${Number(r.bucket)}|${r.status}`, Number(r.count));
  const buckets = Array.from({ length: count }, (_, i): OverviewBucket => {
    const byStatus = EXECUTION_STATUSES.map((status) => ({ status, count: counts.get(`${i}|${status}`) ?? 0 }));
    return {
      start: new Date(from.getTime() + i * bucketSeconds * 1000),
      total: byStatus.reduce((n, s) => n + s.count, 0),
      byStatus,
    };
  });
  const workflows = byWorkflow.map((r) => ({
    workflowId: r.workflowId,
    finished: Number(r.finished),
    p50Ms: ms(r.p50),
    p95Ms: ms(r.p95),
  }));
  return { from, to, bucketSeconds, buckets, workflows };
}
