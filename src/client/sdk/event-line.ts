import { graphql, type ResultOf } from './graphql.js';

/**
 * One event as a line of an execution's event log: the dashboard's detail (src/client/sdk/dashboard.ts) and
 * `vigil watch` (src/cli/documents.ts) both read this, so that they show the same fields (`describeEvent` in
 * src/client/documents.ts), and a `LogEvent`'s text. Each of them spreads it in its own documents: the dashboard's
 * persisted documents depend on this fragment, not on the CLI's.
 */
export const EventLine = graphql(`
  fragment EventLine on ExecutionEvent {
    sequence executionId type occurredAt
    ... on StatusChangedEvent { from to error { code message step } }
    ... on ProgressEvent { step percentage }
    ... on StepEvent { stepId name stepType stepStatus: status error { code message step } }
    ... on MessageEvent { messageId adapter messageStatus: status error { code message step } }
    ... on TagsChangedEvent { set { key value } removed }
    ... on LogEvent { stream level text }
  }
`);

export type EventLine = ResultOf<typeof EventLine>;
