import { graphql } from './graphql.js';

/** The SDK's documents. Every result type of `vigil/client` is inferred from these (see graphql.ts). */
export const ExecutionFields = graphql(`
  fragment ExecutionFields on Execution {
    id organizationId environment workflowId workflowVersion status
    progress { step percentage }
    error { code message step details }
    trigger { type eventId eventType entityType entityId }
    initiatedBy inputs output metadata
    createdAt startedAt completedAt updatedAt durationMs lastSequence
    timeoutSeconds heartbeatTimeoutSeconds deadlineAt
    stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
    steps { id name type status startedAt completedAt durationMs skipped outputs artifacts rowCounts error { code message step details } }
    tags { key value }
    parentExecutionId rootExecutionId attempt retryOf pinned logBytes logTruncated
  }
`);

export const EventFields = graphql(`
  fragment EventFields on ExecutionEvent {
    __typename sequence executionId type occurredAt
    ... on StatusChangedEvent { from to error { code message step details } }
    ... on ProgressEvent { step percentage }
    ... on StepEvent { stepId name stepType stepStatus: status error { code message step details } }
    ... on MessageEvent { messageId adapter messageStatus: status error { code message step details } }
    ... on LogEvent { stream level text }
    ... on TagsChangedEvent { set { key value } removed }
  }
`);

export const GetExecution = graphql(`query SdkExecution($id: ID!) { execution(id: $id) { ...ExecutionFields } }`, [
  ExecutionFields,
]);

export const ListExecutions = graphql(
  `query SdkExecutions($filter: ExecutionFilter, $first: Int, $after: String) {
    executions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ...ExecutionFields } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  [ExecutionFields],
);

export const WaitExecution = graphql(
  `query SdkWait($id: ID!, $timeout: Float) {
    waitForExecution(id: $id, timeout: $timeout) { completed durationMs message execution { ...ExecutionFields } }
  }`,
  [ExecutionFields],
);

export const WaitExecutions = graphql(
  `query SdkWaitMany($ids: [ID!], $filter: ExecutionFilter, $mode: WaitMode, $expectedCount: Int, $timeout: Float) {
    waitForExecutions(ids: $ids, filter: $filter, mode: $mode, expectedCount: $expectedCount, timeout: $timeout) {
      completed durationMs message executions { ...ExecutionFields }
    }
  }`,
  [ExecutionFields],
);

export const ExecutionEvents = graphql(
  `subscription SdkEvents($id: ID!, $after: Int, $timeout: Float, $types: [ExecutionEventType!]) {
    executionEvents(executionId: $id, after: $after, timeout: $timeout, types: $types) { ...EventFields }
  }`,
  [EventFields],
);

export const CreateExecution = graphql(
  `mutation SdkCreate($input: CreateExecutionInput!) { createExecution(input: $input) { ...ExecutionFields } }`,
  [ExecutionFields],
);

export const RecordEvents = graphql(`
  mutation SdkRecord($id: ID!, $events: [ExecutionEventInput!]!, $key: String) {
    recordExecutionEvents(executionId: $id, events: $events, idempotencyKey: $key) {
      execution { id status lastSequence heartbeatTimeoutSeconds }
      events { sequence }
    }
  }
`);

export const ExecutionStatus = graphql(`query SdkStatus($id: ID!) { execution(id: $id) { id status } }`);
