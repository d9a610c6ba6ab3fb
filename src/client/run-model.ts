/**
 * The run model's documents (API.md §8: tags, lineage, attempts), as the CLI asks for them; in their own file beside
 * documents.ts so that the shapes other users of the client ask for stay as they are.
 */
import { DETAIL, type ExecutionDetail, type ExecutionStatus, type ExecutionSummary, SUMMARY } from './documents.js';

export interface Tag {
  key: string;
  value: string;
}

/** What an execution says about its place in a run (API.md §8). */
export interface RunFields {
  tags: Tag[];
  parentExecutionId: string | null;
  rootExecutionId: string;
  attempt: number;
  retryOf: string | null;
}

/** A relative (parent, child, retry) as a line of `vigil get` shows it. */
export interface Relative {
  id: string;
  workflowId: string;
  status: ExecutionStatus;
  attempt: number;
  createdAt: string;
  durationMs: number | null;
  tags: Tag[];
}

export interface StatusCounts {
  total: number;
  byStatus: { status: ExecutionStatus; count: number }[];
}

const RUN = 'tags { key value } parentExecutionId rootExecutionId attempt retryOf';
const RELATIVE = 'id workflowId status attempt createdAt durationMs tags { key value }';

export type RunSummary = ExecutionSummary & RunFields;

export const RUN_LIST = `query RunList($filter: ExecutionFilter, $first: Int, $after: String) {
  executions(filter: $filter, first: $first, after: $after) {
    nodes { ${SUMMARY} ${RUN} }
    pageInfo { hasNextPage endCursor }
  }
}`;
export interface RunListResult {
  executions: { nodes: RunSummary[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** One execution with its parent, the first `$children` children and their counts, its retries and the retried one. */
export const RUN_GET = `query RunGet($id: ID!, $children: Int!) {
  execution(id: $id) {
    ${DETAIL} ${RUN}
    parent { ${RELATIVE} }
    children(first: $children) { nodes { ${RELATIVE} } pageInfo { hasNextPage } }
    retries { ${RELATIVE} }
  }
  childCounts: executionCounts(filter: { parentExecutionId: $id }) { total byStatus { status count } }
}`;
export type RunDetail = ExecutionDetail &
  RunFields & {
    parent: Relative | null;
    children: { nodes: Relative[]; pageInfo: { hasNextPage: boolean } };
    retries: Relative[];
  };
export interface RunGetResult {
  execution: RunDetail | null;
  childCounts: StatusCounts;
}

/** The retries of one execution: `vigil get` follows the chain to its last attempt. */
export const RETRIES = `query Retries($id: ID!) { execution(id: $id) { retries { ${RELATIVE} } } }`;
export interface RetriesResult {
  execution: { retries: Relative[] } | null;
}

export const CANCEL = `mutation Cancel($id: ID!, $cascade: Boolean) {
  updateExecutionStatus(id: $id, status: CANCELLED, cascade: $cascade) {
    success previousStatus currentStatus message execution { ${SUMMARY} }
  }
}`;

export const CHILD_COUNTS = `query ChildCounts($id: ID!) {
  executionCounts(filter: { parentExecutionId: $id }) { total byStatus { status count } }
}`;
export interface ChildCountsResult {
  executionCounts: StatusCounts;
}
