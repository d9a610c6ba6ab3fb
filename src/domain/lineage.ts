import { and, type Column, getTableColumns, type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import type { Principal } from './access.js';
import { notFound, VigilError } from './errors.js';
import type { CreateExecutionInput } from './inputs.js';
import { tenantOf } from './tenant.js';
import { type Execution, isTerminal, TERMINAL_STATUSES } from './types.js';

/** At most 31 ancestors: a root is depth 1 (API.md §8). */
export const MAX_DEPTH = 32;

export interface Lineage {
  parentExecutionId: string | null;
  rootExecutionId: string;
  depth: number;
  attempt: number;
  retryOf: string | null;
}

export function rootLineage(id: string): Lineage {
  return { parentExecutionId: null, rootExecutionId: id, depth: 1, attempt: 1, retryOf: null };
}

const invalid = (field: string, msg: string) =>
  new VigilError('VALIDATION_FAILED', `Invalid input: ${field}: ${msg}`, {
    issues: [{ loc: [field], msg, type: 'value_error' }],
  });

/**
 * The lineage of a new execution `id` (API.md §8), read in the transaction that inserts it. The parent and the
 * retried execution are read in the caller's tenant (another tenant's is EXECUTION_NOT_FOUND with the message a
 * missing one gets) and held FOR KEY SHARE until commit, so neither can be deleted under the new row.
 *
 * No cycle can ever form: lineage is written once, at insert, and may only name rows that already exist, while the
 * new row's id is generated here by the server. Every edge therefore points from a newer row to an older one, and a
 * path that only goes back in creation order cannot return to where it started.
 */
export async function resolveLineage(
  tx: Executor,
  principal: Principal,
  id: string,
  input: Pick<CreateExecutionInput, 'parentExecutionId' | 'retryOf' | 'workflowId'>,
): Promise<Lineage> {
  const wanted = [input.parentExecutionId, input.retryOf].filter((x): x is string => !!x);
  if (wanted.length === 0) return rootLineage(id);
  const rows = await tx
    .select({
      id: executions.id,
      workflowId: executions.workflowId,
      status: executions.status,
      parentExecutionId: executions.parentExecutionId,
      rootExecutionId: executions.rootExecutionId,
      depth: executions.depth,
      attempt: executions.attempt,
    })
    .from(executions)
    .where(and(sql`${executions.id} = any(${pgArray(wanted)}::uuid[])`, tenantOf(principal)))
    .for('key share');
  const byId = new Map(rows.map((r) => [r.id, r]));
  let lineage = rootLineage(id);
  if (input.retryOf) {
    const retried = byId.get(input.retryOf);
    if (!retried) throw notFound(input.retryOf);
    if (!isTerminal(retried.status)) {
      throw invalid('retryOf', `execution ${retried.id} is ${retried.status}; only a terminal execution is retried`);
    }
    if (retried.workflowId !== input.workflowId) {
      throw invalid('workflowId', `must be ${retried.workflowId}, the workflowId of the execution retried`);
    }
    lineage = {
      // Without a parent of its own, the retry takes the retried one's place in its tree.
      parentExecutionId: retried.parentExecutionId,
      rootExecutionId: retried.parentExecutionId ? retried.rootExecutionId : id,
      depth: retried.depth,
      attempt: retried.attempt + 1,
      retryOf: retried.id,
    };
  }
  if (input.parentExecutionId) {
    const parent = byId.get(input.parentExecutionId);
    if (!parent) throw notFound(input.parentExecutionId);
    if (parent.depth + 1 > MAX_DEPTH) {
      throw invalid('parentExecutionId', `at most ${MAX_DEPTH - 1} ancestors (the parent is at depth ${parent.depth})`);
    }
    lineage = {
      ...lineage,
      parentExecutionId: parent.id,
      rootExecutionId: parent.rootExecutionId,
      depth: parent.depth + 1,
    };
  }
  return lineage;
}

type Insertable = Partial<Record<keyof Execution, unknown>> & { id: string; workflowId: string };

const COLUMNS = getTableColumns(executions) as unknown as Record<string, Column>;

/** A value as a typed SQL parameter, encoded by its column (JSON, timestamps, enums) as drizzle's insert would. */
const typedParam = (key: string, value: unknown): SQL => {
  const column = COLUMNS[key] as Column;
  return sql`${sql.param(value, column)}::${sql.raw(column.getSQLType())}`;
};

/**
 * Inserts an execution with a parent and/or retryOf in one statement (one round trip, not a four-statement
 * transaction): `insert … select` from the referenced rows, read in the caller's tenant and held FOR KEY SHARE, with
 * the lineage computed from them and every rule of API.md §8 in its WHERE. Returns null when nothing was inserted:
 * a rule refused (the caller then runs resolveLineage for the precise error) or the idempotencyKey was taken.
 */
export async function insertWithLineage(
  db: Executor,
  principal: Principal,
  values: Insertable,
  refs: Pick<CreateExecutionInput, 'parentExecutionId' | 'retryOf'>,
): Promise<Execution | null> {
  const keys = Object.keys(values).filter((k) => values[k as keyof Insertable] !== undefined);
  const from: SQL[] = [];
  const where: SQL[] = [];
  const tenant = (alias: string) =>
    sql`${sql.raw(alias)}.organization_id = ${principal.organizationId} and ${sql.raw(alias)}.environment = ${principal.environment}::environment`;
  if (refs.parentExecutionId) {
    from.push(sql`executions p`);
    where.push(sql`p.id = ${refs.parentExecutionId}::uuid and ${tenant('p')} and p.depth < ${MAX_DEPTH}`);
  }
  if (refs.retryOf) {
    from.push(sql`executions r`);
    where.push(
      sql`r.id = ${refs.retryOf}::uuid and ${tenant('r')} and r.workflow_id = ${values.workflowId}
        and r.status::text = any(${`{${TERMINAL_STATUSES.join(',')}}`}::text[])`,
    );
  }
  const id = sql`${values.id}::uuid`;
  const lineage = refs.parentExecutionId
    ? {
        parent_execution_id: sql`p.id`,
        root_execution_id: sql`p.root_execution_id`,
        depth: sql`p.depth + 1`,
      }
    : {
        parent_execution_id: sql`r.parent_execution_id`,
        root_execution_id: sql`case when r.parent_execution_id is null then ${id} else r.root_execution_id end`,
        depth: sql`r.depth`,
      };
  const derived = {
    ...lineage,
    attempt: refs.retryOf ? sql`r.attempt + 1` : sql`1`,
    retry_of: refs.retryOf ? sql`r.id` : sql`null::uuid`,
  };
  const names = [
    ...keys.map((k) => sql.identifier((COLUMNS[k] as Column).name)),
    ...Object.keys(derived).map((n) => sql.identifier(n)),
  ];
  const exprs = [...keys.map((k) => typedParam(k, values[k as keyof Insertable])), ...Object.values(derived)];
  const result = await db.execute(sql`insert into executions (${sql.join(names, sql`, `)})
    select ${sql.join(exprs, sql`, `)} from ${sql.join(from, sql`, `)} where ${sql.join(where, sql` and `)}
    for key share
    on conflict (organization_id, environment, idempotency_key) where idempotency_key is not null do nothing
    returning *`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];
  const [raw] = rows;
  if (!raw) return null;
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(COLUMNS)) {
    const v = raw[column.name];
    row[key] = v == null ? null : column.mapFromDriverValue(v);
  }
  return row as Execution;
}
