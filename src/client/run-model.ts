/**
 * The run model (API.md §8) as the clients use it: a tag, the `ExecutionFilter` a list is read with (typed from the
 * schema by the dashboard's documents, src/client/sdk/dashboard.ts), and that filter applied in memory to live
 * updates.
 */
import type { Filter, RunSummary } from './sdk/dashboard.js';

export type { Filter } from './sdk/dashboard.js';

export interface Tag {
  key: string;
  value: string;
}

/** The filter in memory, for live updates (the server's `matchesFilter`, API.md §8). */
export function matches(e: RunSummary, f: Filter): boolean {
  if (f.status?.length && !f.status.includes(e.status)) return false;
  if (f.workflowIdPrefix && !e.workflowId.startsWith(f.workflowIdPrefix)) return false;
  if (f.idPrefix && !e.id.startsWith(f.idPrefix)) return false;
  if (f.createdAfter && !(Date.parse(e.createdAt) > Date.parse(f.createdAfter))) return false;
  if (f.createdBefore && !(Date.parse(e.createdAt) < Date.parse(f.createdBefore))) return false;
  if (f.parentExecutionId && e.parentExecutionId !== f.parentExecutionId) return false;
  for (const t of f.tags ?? []) if (!e.tags.some((x) => x.key === t.key && x.value === t.value)) return false;
  return true;
}
