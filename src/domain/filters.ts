import { eq, gt, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { executions } from '../db/schema.js';
import type { ExecutionFilter } from './inputs.js';
import { hasTags, tagMap } from './tags.js';
import type { Execution } from './types.js';

/** The highest code point: `prefix || U+10FFFF` sorts after every id that starts with `prefix` (byte order). */
const AFTER_PREFIX = String.fromCodePoint(0x10ffff);

/** The smallest and largest id that start with `prefix` (a validated start of the 8-4-4-4-12 layout). */
function idRange(prefix: string): [string, string] {
  const pad = (fill: string) =>
    prefix + '00000000-0000-0000-0000-000000000000'.slice(prefix.length).replace(/0/g, fill);
  return [pad('0'), pad('f')];
}

/**
 * The SQL conditions of a filter (API.md §2, §8). Each one is served by an index: tags by the GIN index on `tags`
 * (one containment test for all pairs), workflowId and workflowIdPrefix by the text_pattern_ops index (the prefix as
 * a range, so a generic plan uses it too), lineage by the parent and root indexes, idPrefix as a range of the key.
 */
export function filterConditions(filter: ExecutionFilter | null | undefined): SQL[] {
  const c: SQL[] = [];
  if (!filter) return c;
  if (filter.status?.length) c.push(inArray(executions.status, filter.status));
  if (filter.workflowId) c.push(eq(executions.workflowId, filter.workflowId));
  if (filter.createdAfter) c.push(gt(executions.createdAt, new Date(filter.createdAfter)));
  if (filter.createdBefore) c.push(lt(executions.createdAt, new Date(filter.createdBefore)));
  if (filter.tags?.length) c.push(sql`${executions.tags} @> ${JSON.stringify(tagMap(filter.tags))}::jsonb`);
  if (filter.parentExecutionId) c.push(eq(executions.parentExecutionId, filter.parentExecutionId));
  if (filter.rootExecutionId) c.push(eq(executions.rootExecutionId, filter.rootExecutionId));
  if (filter.workflowIdPrefix) {
    const p = filter.workflowIdPrefix;
    c.push(
      sql`${executions.workflowId} ~>=~ ${p} and ${executions.workflowId} ~<~ ${p + AFTER_PREFIX} and starts_with(${executions.workflowId}, ${p})`,
    );
  }
  if (filter.idPrefix) {
    const [low, high] = idRange(filter.idPrefix);
    c.push(sql`${executions.id} between ${low}::uuid and ${high}::uuid`);
  }
  return c;
}

/** The same filter on an execution in memory (the change feed's match, API.md §2 `executionUpdated`). */
export function matchesFilter(e: Execution, filter: ExecutionFilter | null | undefined): boolean {
  if (!filter) return true;
  if (filter.status?.length && !filter.status.includes(e.status)) return false;
  if (filter.workflowId && filter.workflowId !== e.workflowId) return false;
  if (filter.createdAfter && !(e.createdAt > new Date(filter.createdAfter))) return false;
  if (filter.createdBefore && !(e.createdAt < new Date(filter.createdBefore))) return false;
  if (!hasTags(e, filter.tags)) return false;
  if (filter.parentExecutionId && filter.parentExecutionId !== e.parentExecutionId) return false;
  if (filter.rootExecutionId && filter.rootExecutionId !== e.rootExecutionId) return false;
  if (filter.workflowIdPrefix && !e.workflowId.startsWith(filter.workflowIdPrefix)) return false;
  if (filter.idPrefix && !e.id.startsWith(filter.idPrefix)) return false;
  return true;
}
