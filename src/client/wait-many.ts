import { type ExecutionSummary, SUMMARY } from './documents.js';

/** API.md §9: many executions at once (the CLI's `wait ID ID …` and `wait --tag`). */
export const WAIT_MANY = `query WaitMany($ids: [ID!], $filter: ExecutionFilter, $mode: WaitMode, $expectedCount: Int, $timeout: Float) {
  waitForExecutions(ids: $ids, filter: $filter, mode: $mode, expectedCount: $expectedCount, timeout: $timeout) {
    completed durationMs message executions { ${SUMMARY} }
  }
}`;
export interface WaitManyResult {
  waitForExecutions: {
    completed: boolean;
    durationMs: number;
    message: string | null;
    executions: ExecutionSummary[];
  };
}
