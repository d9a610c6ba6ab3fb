import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaFile } from '../src/graphql/print.js';

describe('schema.graphql', () => {
  it('matches the schema built from src/graphql (run `npm run schema:print` after a change)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchemaFile());
  });

  it('has every name API.md §2 promises', () => {
    const text = printSchemaFile();
    for (const name of [
      'execution(id: ID!): Execution',
      'executions(after: String, filter: ExecutionFilter, first: Int = 20): ExecutionConnection!',
      'waitForExecution(id: ID!, timeout: Float = 300): ExecutionWaitResult!',
      'createExecution(input: CreateExecutionInput!): Execution!',
      'updateExecutionStatus(cascade: Boolean = false, errorInfo: JSON, id: ID!, status: ExecutionStatusTarget!): ExecutionStatusUpdateResult!',
      'executionUpdated(filter: ExecutionFilter): Execution!',
      'type StatusChangedEvent implements ExecutionEvent',
      'type ProgressEvent implements ExecutionEvent',
      'type StepEvent implements ExecutionEvent',
      'type MessageEvent implements ExecutionEvent',
    ]) {
      expect(text).toContain(name);
    }
    // executionEvents is printed over several lines since §8 added `types`.
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('executionEvents( after: Int executionId: ID! timeout: Float = 300 ');
    // and recordExecutionEvents since issue 21 added the optional `idempotencyKey` (an addition API.md allows).
    expect(flat).toMatch(
      /recordExecutionEvents\( events: \[ExecutionEventInput!\]! executionId: ID! .*idempotencyKey: String \): RecordExecutionEventsResult!/,
    );
  });

  it('has every name API.md §8 promises', () => {
    const text = printSchemaFile();
    for (const name of [
      'input TagInput {',
      'type Tag {',
      'input TagsInput {',
      'type TagsChangedEvent implements ExecutionEvent',
      'TAGS_CHANGED',
      'executionCounts(filter: ExecutionFilter): ExecutionCounts!',
      'type ExecutionCounts {',
      'type StatusCount {',
      'children(after: String, filter: ExecutionFilter, first: Int = 20): ExecutionConnection!',
      'parent: Execution',
      'parentExecutionId: ID',
      'rootExecutionId: ID!',
      'attempt: Int!',
      'retryOf: ID',
      'retries: [Execution!]!',
      'pinned: Boolean!',
      'tags: [Tag!]!',
      'idPrefix: String',
      'workflowIdPrefix: String',
      'logBytes: Float!',
      'logTruncated: Boolean!',
      'logs(after: Int = 0, first: Int = 1000): [LogEvent!]!',
      'type LogEvent implements ExecutionEvent',
      'enum LogLevel {',
      'input LogInput {',
      'stream: String = "stdout"',
      'log: LogInput',
      'types: [ExecutionEventType!]',
    ]) {
      expect(text).toContain(name);
    }
  });
});
