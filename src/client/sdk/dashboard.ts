import { EventLine } from './event-line.js';
import { graphql, type ResultOf, type VariablesOf } from './graphql.js';

/**
 * The dashboard's documents, typed by gql.tada from schema.graphql like the SDK's and the CLI's: every result the
 * dashboard reads has its type inferred here, so a field renamed in the schema breaks `npm run typecheck` (tsc where
 * a view reads it, `gql-tada check` in the document), not the dashboard at run time. They are sent with the SDK's
 * `query`/`subscribe` (transport.ts).
 *
 * This module holds documents only: the dashboard's build (scripts/build-ui.ts) replaces it by their persisted ids
 * (`{ kind: 'Document', definitions: [], documentId }`, the shape of gql.tada's `graphql.persisted`), so the bundle
 * carries no document text and parses nothing. Views import its types with `import type`, and only its operations
 * as values. Fragments keep the shapes shared by several documents in one place (not masked: see graphql.ts).
 */

/** A row of the list; also what the change feed and a detail's children deliver. */
export const RowFields = graphql(`
  fragment DashboardRow on Execution {
    id workflowId workflowVersion environment status progress { step percentage }
    createdAt startedAt completedAt updatedAt durationMs lastSequence
    stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
    error { code message step details }
    tags { key value } parentExecutionId rootExecutionId attempt retryOf pinned
  }
`);

/** Who the caller is: the header, and which actions the detail offers. */
export const ViewerQuery = graphql(`query Viewer { viewer { organizationId environment scopes authenticated } }`);

/** A page of the list. */
export const RunList = graphql(
  `query RunList($filter: ExecutionFilter, $first: Int, $after: String) {
    executions(filter: $filter, first: $first, after: $after) {
      nodes { ...DashboardRow } pageInfo { hasNextPage endCursor }
    }
  }`,
  [RowFields],
);

/** The change feed (API.md §9): take the cursor before reading the list, then follow the changes after it. */
export const ChangesCursor = graphql(`query ChangesCursor { executionChangesCursor }`);

export const RunChanges = graphql(
  `subscription RunChanges($filter: ExecutionFilter, $after: String) {
    executionChanges(filter: $filter, after: $after) { cursor execution { ...DashboardRow } }
  }`,
  [RowFields],
);

/** A detail's children, kept live. */
export const RunUpdated = graphql(
  `subscription RunUpdated($filter: ExecutionFilter) { executionUpdated(filter: $filter) { ...DashboardRow } }`,
  [RowFields],
);

/** One execution as the detail shows it. */
export const RunGet = graphql(
  `query RunGet($id: ID!) {
    execution(id: $id) {
      ...DashboardRow
      organizationId initiatedBy trigger { type eventId eventType entityType }
      timeoutSeconds heartbeatTimeoutSeconds deadlineAt inputs output metadata
      steps { id name type status startedAt completedAt durationMs skipped error { code message step } }
      parent { id workflowId status }
    }
  }`,
  [RowFields],
);

export const Children = graphql(
  `query Children($id: ID!, $first: Int, $after: String) {
    execution(id: $id) {
      children(first: $first, after: $after) { nodes { ...DashboardRow } pageInfo { hasNextPage endCursor } }
    }
  }`,
  [RowFields],
);

/** One link of a chain of attempts: walked up through `retryOf` and down through `retries`. */
export const Attempt = graphql(`
  query Attempt($id: ID!) { execution(id: $id) { id attempt status retryOf retries { id attempt status } } }
`);

/**
 * Every event of one execution, output included, on one subscription: one cursor (`after`) resumes status,
 * progress and output together, so a re-attach loses no line and repeats none. Each event as the detail's log shows
 * it: status, progress, steps, messages, tags, and the run's output (`LogEvent`), the fragment `vigil watch` reads too.
 */
export const EventsWithLogs = graphql(
  `subscription EventsWithLogs($id: ID!, $after: Int, $timeout: Float) {
    executionEvents(executionId: $id, after: $after, timeout: $timeout) { ...EventLine }
  }`,
  [EventLine],
);

export const Counts = graphql(`
  query Counts($filter: ExecutionFilter) { executionCounts(filter: $filter) { total byStatus { status count } } }
`);

export const Overview = graphql(`
  query Overview($filter: ExecutionFilter, $from: DateTime!, $to: DateTime!, $bucketSeconds: Int!) {
    executionOverview(filter: $filter, from: $from, to: $to, bucketSeconds: $bucketSeconds) {
      from to bucketSeconds
      buckets { start total byStatus { status count } }
      workflows { workflowId finished p50Ms p95Ms }
    }
  }
`);

/** Cancel, mark failed, mark completed. */
export const UpdateStatus = graphql(`
  mutation UpdateStatus($id: ID!, $status: ExecutionStatusTarget!, $errorInfo: JSON) {
    updateExecutionStatus(id: $id, status: $status, errorInfo: $errorInfo) {
      success previousStatus currentStatus message
    }
  }
`);

export const SetPinned = graphql(`
  mutation SetPinned($id: ID!, $pinned: Boolean!) {
    setExecutionPinned(id: $id, pinned: $pinned) { id pinned updatedAt }
  }
`);

/** The footer (API.md §10). */
export const Retention = graphql(`query Retention { retention { days oldestExecutionAt } }`);

// The types the views use, inferred from the documents above (erased from the bundle).
export type Viewer = ResultOf<typeof ViewerQuery>['viewer'];
export type RunSummary = ResultOf<typeof RowFields>;
export type RunDetail = NonNullable<ResultOf<typeof RunGet>['execution']>;
export type Step = RunDetail['steps'][number];
export type ListPage = ResultOf<typeof RunList>['executions'];
export type AttemptLink = Omit<NonNullable<ResultOf<typeof Attempt>['execution']>, 'retryOf' | 'retries'>;
export type DashboardEvent = EventLine;
/** A run's output line(s): the one kind of event with a `text`. */
export type LogEvent = Extract<DashboardEvent, { text: string }>;
export type CountsResult = ResultOf<typeof Counts>['executionCounts'];
export type OverviewResult = ResultOf<typeof Overview>['executionOverview'];
export type RetentionResult = ResultOf<typeof Retention>['retention'];
/** `ExecutionFilter` as GraphQL takes it. */
export type Filter = NonNullable<VariablesOf<typeof RunList>['filter']>;
