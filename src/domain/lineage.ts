import { and, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import type { Principal } from './access.js';
import { notFound, VigilError } from './errors.js';
import { tenantOf } from './executions.js';
import type { CreateExecutionInput } from './inputs.js';
import { isTerminal } from './types.js';

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
