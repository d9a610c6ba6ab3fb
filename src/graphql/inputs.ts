import { builder } from './builder.js';
import { ExecutionStatusEnum, MessageStatusEnum, StepStatusEnum } from './enums.js';
import { LogInput } from './log-input.js';
import { TagInput, TagsInput } from './tags.js';

/** GraphQL input types of API.md §2. Values are validated by the domain's zod schemas, not here. */
export const TriggerInput = builder.inputType('TriggerInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    eventId: t.string(),
    eventType: t.string(),
    entityType: t.string(),
    entityId: t.string(),
  }),
});

export const CreateExecutionInput = builder.inputType('CreateExecutionInput', {
  fields: (t) => ({
    workflowId: t.string({ required: true }),
    workflowVersion: t.string(),
    trigger: t.field({ type: TriggerInput, description: 'Omitted: { type: "manual" }' }),
    initiatedBy: t.string(),
    inputs: t.field({ type: 'JSON' }),
    metadata: t.field({ type: 'JSON' }),
    resolvedVariables: t.field({ type: 'JSON' }),
    idempotencyKey: t.string({
      description: 'Scoped to organization + environment; a retry with the same input returns the same execution',
    }),
    timeoutSeconds: t.int({ description: '≥ 1; the server moves the execution to TIMED_OUT at the deadline' }),
    heartbeatTimeoutSeconds: t.int({ description: '≥ 1; no worker report for this long → INTERRUPTED' }),
    tags: t.field({ type: [TagInput], description: 'At most 32; a key at most once' }),
    parentExecutionId: t.id({ description: 'The execution that started this one (depth at most 32)' }),
    retryOf: t.id({
      description:
        'A terminal execution of the same workflowId this one retries; its parent is taken when none is given',
    }),
  }),
});

export const ExecutionErrorInput = builder.inputType('ExecutionErrorInput', {
  fields: (t) => ({
    code: t.string({ required: true }),
    message: t.string({ required: true }),
    step: t.string(),
    details: t.field({ type: 'JSON' }),
  }),
});

const StatusChangedInput = builder.inputType('StatusChangedInput', {
  fields: (t) => ({
    to: t.field({ type: ExecutionStatusEnum, required: true }),
    error: t.field({ type: ExecutionErrorInput }),
    output: t.field({ type: 'JSON' }),
  }),
});

const ProgressInput = builder.inputType('ProgressInput', {
  fields: (t) => ({
    step: t.string(),
    percentage: t.float({ required: true, description: '0..100' }),
  }),
});

const StepInput = builder.inputType('StepInput', {
  fields: (t) => ({
    stepId: t.string({ required: true }),
    name: t.string(),
    type: t.string(),
    status: t.field({ type: StepStatusEnum, required: true }),
    error: t.field({ type: ExecutionErrorInput }),
    outputs: t.field({ type: 'JSON' }),
    artifacts: t.field({ type: 'JSON' }),
    rowCounts: t.field({ type: 'JSON' }),
    columns: t.field({ type: 'JSON' }),
    skipped: t.boolean(),
  }),
});

const MessageInput = builder.inputType('MessageInput', {
  fields: (t) => ({
    messageId: t.string({ required: true }),
    adapter: t.string(),
    status: t.field({ type: MessageStatusEnum, required: true }),
    error: t.field({ type: ExecutionErrorInput }),
  }),
});

export const ExecutionEventInput = builder.inputType('ExecutionEventInput', {
  description: 'Exactly one kind (statusChanged, progress, step, message, tags, log) is set',
  fields: (t) => ({
    statusChanged: t.field({ type: StatusChangedInput }),
    progress: t.field({ type: ProgressInput }),
    step: t.field({ type: StepInput }),
    message: t.field({ type: MessageInput }),
    tags: t.field({ type: TagsInput }),
    log: t.field({ type: LogInput }),
    occurredAt: t.field({ type: 'DateTime', description: "Default: the server's time" }),
  }),
});

export const ExecutionFilter = builder.inputType('ExecutionFilter', {
  fields: (t) => ({
    status: t.field({ type: [ExecutionStatusEnum] }),
    workflowId: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
    tags: t.field({ type: [TagInput], description: 'Every given pair must match' }),
    parentExecutionId: t.id(),
    rootExecutionId: t.id(),
    workflowIdPrefix: t.string(),
    idPrefix: t.string({ description: 'The start of an execution id' }),
  }),
});
