import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../domain/inputs.js';
import type { Tag } from '../domain/tags.js';
import type {
  ExecutionErrorInfo,
  ExecutionEvent,
  ExecutionStatus,
  MessageStatus,
  StepStatus,
} from '../domain/types.js';
import { openEventStream } from '../feed/stream.js';
import { builder } from './builder.js';
import { ExecutionEventTypeEnum, ExecutionStatusEnum, MessageStatusEnum, StepStatusEnum } from './enums.js';
import { ExecutionErrorRef } from './execution-error.js';
import { TagRef } from './tags.js';

export const ExecutionEventRef = builder.interfaceRef<ExecutionEvent>('ExecutionEvent').implement({
  fields: (t) => ({
    sequence: t.exposeInt('sequence'),
    executionId: t.exposeID('executionId'),
    type: t.field({ type: ExecutionEventTypeEnum, resolve: (e) => e.type }),
    occurredAt: t.field({ type: 'DateTime', resolve: (e) => e.occurredAt }),
  }),
  resolveType: (e) => TYPE_NAMES[e.type],
});

const TYPE_NAMES = {
  STATUS_CHANGED: 'StatusChangedEvent',
  PROGRESS: 'ProgressEvent',
  STEP: 'StepEvent',
  MESSAGE: 'MessageEvent',
  TAGS_CHANGED: 'TagsChangedEvent',
  LOG: 'LogEvent',
} as const;

const p = <T>(e: ExecutionEvent, key: string) => (e.payload[key] ?? null) as T;

builder.objectRef<ExecutionEvent>('StatusChangedEvent').implement({
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'STATUS_CHANGED',
  fields: (t) => ({
    from: t.field({ type: ExecutionStatusEnum, resolve: (e) => p<ExecutionStatus>(e, 'from') }),
    to: t.field({ type: ExecutionStatusEnum, resolve: (e) => p<ExecutionStatus>(e, 'to') }),
    error: t.field({
      type: ExecutionErrorRef,
      nullable: true,
      resolve: (e) => p<ExecutionErrorInfo | null>(e, 'error'),
    }),
  }),
});

builder.objectRef<ExecutionEvent>('ProgressEvent').implement({
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'PROGRESS',
  fields: (t) => ({
    step: t.string({ nullable: true, resolve: (e) => p<string | null>(e, 'step') }),
    percentage: t.float({ resolve: (e) => p<number>(e, 'percentage') }),
  }),
});

builder.objectRef<ExecutionEvent>('StepEvent').implement({
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'STEP',
  fields: (t) => ({
    stepId: t.string({ resolve: (e) => p<string>(e, 'stepId') }),
    name: t.string({ nullable: true, resolve: (e) => p<string | null>(e, 'name') }),
    stepType: t.string({
      nullable: true,
      description: "The step's own type (StepInput.type)",
      resolve: (e) => p<string | null>(e, 'type'),
    }),
    status: t.field({ type: StepStatusEnum, resolve: (e) => p<StepStatus>(e, 'status') }),
    error: t.field({
      type: ExecutionErrorRef,
      nullable: true,
      resolve: (e) => p<ExecutionErrorInfo | null>(e, 'error'),
    }),
    outputs: t.field({ type: 'JSON', nullable: true, resolve: (e) => p(e, 'outputs') }),
    artifacts: t.field({ type: 'JSON', nullable: true, resolve: (e) => p(e, 'artifacts') }),
    rowCounts: t.field({ type: 'JSON', nullable: true, resolve: (e) => p(e, 'rowCounts') }),
    columns: t.field({ type: 'JSON', nullable: true, resolve: (e) => p(e, 'columns') }),
    skipped: t.boolean({ nullable: true, resolve: (e) => p<boolean | null>(e, 'skipped') }),
  }),
});

builder.objectRef<ExecutionEvent>('MessageEvent').implement({
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'MESSAGE',
  fields: (t) => ({
    messageId: t.string({ resolve: (e) => p<string>(e, 'messageId') }),
    adapter: t.string({ nullable: true, resolve: (e) => p<string | null>(e, 'adapter') }),
    status: t.field({ type: MessageStatusEnum, resolve: (e) => p<MessageStatus>(e, 'status') }),
    error: t.field({
      type: ExecutionErrorRef,
      nullable: true,
      resolve: (e) => p<ExecutionErrorInfo | null>(e, 'error'),
    }),
  }),
});

builder.objectRef<ExecutionEvent>('TagsChangedEvent').implement({
  description: 'A worker changed the tags: what it gave, even when that changed nothing',
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'TAGS_CHANGED',
  fields: (t) => ({
    set: t.field({ type: [TagRef], resolve: (e) => p<Tag[] | null>(e, 'set') ?? [] }),
    removed: t.stringList({ resolve: (e) => p<string[] | null>(e, 'removed') ?? [] }),
  }),
});

builder.subscriptionField('executionEvents', (t) =>
  t.field({
    type: ExecutionEventRef,
    description:
      'Stored events with sequence > after (all when omitted), then live ones, each exactly once; completes after ' +
      'the event that makes the execution terminal, or at the timeout (seconds, 1..3600)',
    args: {
      executionId: t.arg.id({ required: true }),
      after: t.arg.int(),
      timeout: t.arg.float({ defaultValue: DEFAULT_WAIT_TIMEOUT_SECONDS }),
      types: t.arg({
        type: [ExecutionEventTypeEnum],
        description: 'Only these types (sequences then skip the others); it still completes at the terminal event',
      }),
    },
    subscribe: (_root, args, ctx) =>
      openEventStream(ctx.feed, ctx.db, ctx.principal, String(args.executionId), {
        after: args.after,
        timeoutSeconds: args.timeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
        types: args.types,
      }),
    resolve: (e) => e,
  }),
);
