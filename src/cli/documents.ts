import { EventLine } from '../client/sdk/event-line.js';
import { graphql, type ResultOf } from '../client/sdk/graphql.js';

/**
 * The documents of `vigil get`, `list`, `cancel`, `watch` and `logs`, typed by gql.tada from schema.graphql like the
 * SDK's (src/client/sdk/documents.ts): a field renamed in the schema breaks `npm run typecheck` where the CLI uses it.
 * They ask for the fields the CLI always asked for, in the same order (its --json output is the server's answer).
 */

const Summary = graphql(`
  fragment CliSummary on Execution {
    id workflowId workflowVersion environment status progress { step percentage }
    createdAt startedAt completedAt updatedAt durationMs lastSequence
    stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
    error { code message step details }
  }
`);

const Run = graphql(`
  fragment CliRun on Execution { tags { key value } parentExecutionId rootExecutionId attempt retryOf pinned }
`);

const Relative = graphql(`
  fragment CliRelative on Execution { id workflowId status attempt createdAt durationMs tags { key value } }
`);

/** `vigil list`: a page of rows. */
export const RunList = graphql(
  `query RunList($filter: ExecutionFilter, $first: Int, $after: String) {
    executions(filter: $filter, first: $first, after: $after) {
      nodes { ...CliSummary ...CliRun } pageInfo { hasNextPage endCursor }
    }
  }`,
  [Summary, Run],
);

/** `vigil get`: one execution with its parent, the first `$children` children and their counts, its retries. */
export const RunView = graphql(
  `query RunView($id: ID!, $children: Int!) {
    execution(id: $id) {
      ...CliSummary
      organizationId initiatedBy trigger { type eventId eventType entityType }
      timeoutSeconds heartbeatTimeoutSeconds deadlineAt inputs output metadata
      steps { id name type status startedAt completedAt durationMs skipped error { code message step } }
      ...CliRun
      parent { ...CliRelative }
      children(first: $children) { nodes { ...CliRelative } pageInfo { hasNextPage } }
      retries { ...CliRelative }
    }
    childCounts: executionCounts(filter: { parentExecutionId: $id }) { total byStatus { status count } }
  }`,
  [Summary, Run, Relative],
);

/** The retries of one execution: `vigil get` follows the chain to its last attempt. */
export const Retries = graphql(`query Retries($id: ID!) { execution(id: $id) { retries { ...CliRelative } } }`, [
  Relative,
]);

/** `vigil cancel`. */
export const Cancel = graphql(
  `mutation Cancel($id: ID!, $cascade: Boolean) {
    updateExecutionStatus(id: $id, status: CANCELLED, cascade: $cascade) {
      success previousStatus currentStatus message execution { ...CliSummary }
    }
  }`,
  [Summary],
);

/** `vigil cancel --cascade`: what became of the children. */
export const ChildCounts = graphql(`
  query ChildCounts($id: ID!) { executionCounts(filter: { parentExecutionId: $id }) { total byStatus { status count } } }
`);

/** `vigil wait --tag`: the counts of the filter, for the live line (COUNTS of the dashboard, typed). */
export const TagCounts = graphql(`
  query TagCounts($filter: ExecutionFilter) { executionCounts(filter: $filter) { total byStatus { status count } } }
`);

/** `vigil wait --tag`: each change of a matching execution triggers one count. */
export const TagWait = graphql(`
  subscription TagWait($filter: ExecutionFilter) { executionUpdated(filter: $filter) { id status } }
`);

/** `vigil logs`: the lines stored now, a page at a time. */
export const Logs = graphql(`
  query Logs($id: ID!, $after: Int, $first: Int) {
    execution(id: $id) { status lastSequence logTruncated logs(after: $after, first: $first) { sequence stream level text } }
  }
`);

/** `vigil logs --follow`: the LOG events. */
export const LogEvents = graphql(`
  subscription LogEvents($id: ID!, $after: Int, $timeout: Float) {
    executionEvents(executionId: $id, after: $after, timeout: $timeout, types: [LOG]) {
      sequence ... on LogEvent { stream level text }
    }
  }
`);

/**
 * `vigil watch`: executionEvents with a choice of types, log lines included when asked for; each event as the
 * dashboard's log reads it (the SDK's `EventLine`).
 */
export const TypedEvents = graphql(
  `subscription TypedEvents($id: ID!, $after: Int, $timeout: Float, $types: [ExecutionEventType!]) {
    executionEvents(executionId: $id, after: $after, timeout: $timeout, types: $types) { ...EventLine }
  }`,
  [EventLine],
);

/** Every kind but LOG: what `vigil watch` follows without --logs (a chatty run does not flood it). */
export const NOT_LOGS = ['STATUS_CHANGED', 'PROGRESS', 'STEP', 'MESSAGE', 'TAGS_CHANGED'] as const;

// The shapes the CLI prints, inferred from the documents above (and the SDK's, which `wait` and `watch` read).
/** What a one-line summary reads; the SDK's `Execution` has these fields too. */
export type ExecutionSummary = ResultOf<typeof Summary>;
/** A row of `vigil list`. */
export type ListRow = ResultOf<typeof RunList>['executions']['nodes'][number];
/** The execution `vigil get` shows. */
export type RunDetail = NonNullable<ResultOf<typeof RunView>['execution']>;
/** An event as `vigil watch` gets it (a log line with --logs). */
export type WatchEvent = ResultOf<typeof TypedEvents>['executionEvents'];
