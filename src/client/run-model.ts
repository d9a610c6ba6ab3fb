/**
 * The run model's documents (API.md §8): tags, lineage and attempts on every row, the counts and the overview of a
 * filter, an execution's children and its chain of attempts (the dashboard), and one execution with its relatives as
 * `vigil get` shows it (the CLI); in their own file beside documents.ts so that the shapes other users of the client
 * ask for stay as they are.
 */
import { DETAIL, type ExecutionDetail, type ExecutionStatus, type ExecutionSummary, SUMMARY } from './documents.js';

export interface Tag {
  key: string;
  value: string;
}

/** `ExecutionFilter` as GraphQL takes it. */
export interface Filter {
  status?: string[];
  workflowIdPrefix?: string;
  tags?: Tag[];
  createdAfter?: string;
  createdBefore?: string;
  idPrefix?: string;
  parentExecutionId?: string;
}

export interface RunFields {
  tags: Tag[];
  parentExecutionId: string | null;
  rootExecutionId: string;
  attempt: number;
  retryOf: string | null;
  /** Kept by retention, with its whole tree (API.md §10). */
  pinned: boolean;
}

export type RunSummary = ExecutionSummary & RunFields;
export type RunDetail = ExecutionDetail & RunFields;

const RUN = 'tags { key value } parentExecutionId rootExecutionId attempt retryOf pinned';
const ROW = `${SUMMARY} ${RUN}`;

export const RUN_LIST = `query RunList($filter: ExecutionFilter, $first: Int, $after: String) {
  executions(filter: $filter, first: $first, after: $after) { nodes { ${ROW} } pageInfo { hasNextPage endCursor } }
}`;
export interface RunListResult {
  executions: { nodes: RunSummary[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

export const RUN_UPDATED = `subscription RunUpdated($filter: ExecutionFilter) { executionUpdated(filter: $filter) { ${ROW} } }`;
export interface RunUpdatedResult {
  executionUpdated: RunSummary;
}

/** The change feed (API.md §9): take the cursor before reading the list, then follow the changes after it. */
export const CHANGES_CURSOR = 'query ChangesCursor { executionChangesCursor }';
export interface ChangesCursorResult {
  executionChangesCursor: string;
}

export const RUN_CHANGES = `subscription RunChanges($filter: ExecutionFilter, $after: String) {
  executionChanges(filter: $filter, after: $after) { cursor execution { ${ROW} } }
}`;
export interface RunChangesResult {
  executionChanges: { cursor: string; execution: RunSummary };
}

export const RUN_GET = `query RunGet($id: ID!) { execution(id: $id) { ${DETAIL} ${RUN} parent { id workflowId status } } }`;
export interface RunGetResult {
  execution: (RunDetail & { parent: { id: string; workflowId: string; status: ExecutionStatus } | null }) | null;
}

export const CHILDREN = `query Children($id: ID!, $first: Int, $after: String) {
  execution(id: $id) { children(first: $first, after: $after) { nodes { ${ROW} } pageInfo { hasNextPage endCursor } } }
}`;
export interface ChildrenResult {
  execution: { children: RunListResult['executions'] } | null;
}

/** One link of a chain of attempts: walked up through `retryOf` and down through `retries`. */
export const ATTEMPT = `query Attempt($id: ID!) {
  execution(id: $id) { id attempt status retryOf retries { id attempt status } }
}`;
export interface AttemptLink {
  id: string;
  attempt: number;
  status: ExecutionStatus;
}
export interface AttemptResult {
  execution: (AttemptLink & { retryOf: string | null; retries: AttemptLink[] }) | null;
}

export const COUNTS = `query Counts($filter: ExecutionFilter) {
  executionCounts(filter: $filter) { total byStatus { status count } }
}`;
export interface CountsResult {
  executionCounts: { total: number; byStatus: { status: ExecutionStatus; count: number }[] };
}

export const OVERVIEW = `query Overview($filter: ExecutionFilter, $from: DateTime!, $to: DateTime!, $bucketSeconds: Int!) {
  executionOverview(filter: $filter, from: $from, to: $to, bucketSeconds: $bucketSeconds) {
    from to bucketSeconds
    buckets { start total byStatus { status count } }
    workflows { workflowId finished p50Ms p95Ms }
  }
}`;
export interface OverviewResult {
  executionOverview: {
    from: string;
    to: string;
    bucketSeconds: number;
    buckets: { start: string; total: number; byStatus: { status: ExecutionStatus; count: number }[] }[];
    workflows: { workflowId: string; finished: number; p50Ms: number; p95Ms: number }[];
  };
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

export const SET_PINNED = `mutation SetPinned($id: ID!, $pinned: Boolean!) {
  setExecutionPinned(id: $id, pinned: $pinned) { id pinned updatedAt }
}`;
export interface SetPinnedResult {
  setExecutionPinned: { id: string; pinned: boolean; updatedAt: string };
}

/** The dashboard's footer (API.md §10). */
export const RETENTION = 'query Retention { retention { days oldestExecutionAt } }';
export interface RetentionResult {
  retention: { days: number; oldestExecutionAt: string | null };
}
