import { readEvents } from '../domain/events.js';
import {
  countExecutions,
  type ExecutionCounts,
  findExecution,
  listExecutions,
  type Page,
} from '../domain/executions.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../domain/inputs.js';
import { tagsOf } from '../domain/tags.js';
import {
  durationMsOf,
  type Execution,
  type ExecutionStats,
  errorOf,
  type Progress,
  progressOf,
  type Step,
  statsOf,
  stepsOf,
  type Trigger,
  triggerOf,
} from '../domain/types.js';
import { openUpdateStream } from '../feed/stream.js';
import { type WaitResult, waitForExecution } from '../feed/wait.js';
import { builder } from './builder.js';
import { EnvironmentEnum, ExecutionStatusEnum, StepStatusEnum } from './enums.js';
import { ExecutionEventRef } from './events.js';
import { ExecutionErrorRef } from './execution-error.js';
import { ExecutionFilter } from './inputs.js';
import { childrenLoader, loadersOf } from './loaders.js';
import { TagRef } from './tags.js';

const ProgressRef = builder.objectRef<Progress>('Progress').implement({
  fields: (t) => ({
    step: t.string({ nullable: true, resolve: (p) => p.step ?? null }),
    percentage: t.exposeFloat('percentage'),
  }),
});

const TriggerRef = builder.objectRef<Trigger>('Trigger').implement({
  fields: (t) => ({
    type: t.exposeString('type'),
    eventId: t.string({ nullable: true, resolve: (x) => x.eventId ?? null }),
    eventType: t.string({ nullable: true, resolve: (x) => x.eventType ?? null }),
    entityType: t.string({ nullable: true, resolve: (x) => x.entityType ?? null }),
    entityId: t.string({ nullable: true, resolve: (x) => x.entityId ?? null }),
  }),
});

const StatsRef = builder.objectRef<ExecutionStats>('ExecutionStats').implement({
  description: 'Message lineage counters; successRate = completed / (completed + failed), 0 when none',
  fields: (t) => ({
    totalMessages: t.exposeInt('totalMessages'),
    completedMessages: t.exposeInt('completedMessages'),
    failedMessages: t.exposeInt('failedMessages'),
    inProgressMessages: t.exposeInt('inProgressMessages'),
    successRate: t.exposeFloat('successRate'),
  }),
});

const StepRef = builder.objectRef<Step>('ExecutionStep').implement({
  description: 'A node trace (seed 001) / step artifacts (seed 004)',
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name', { nullable: true }),
    type: t.exposeString('type', { nullable: true }),
    status: t.field({ type: StepStatusEnum, resolve: (s) => s.status }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.startedAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.completedAt }),
    durationMs: t.float({ nullable: true, resolve: (s) => s.durationMs }),
    error: t.field({ type: ExecutionErrorRef, nullable: true, resolve: (s) => s.error }),
    outputs: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.outputs ?? null }),
    artifacts: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.artifacts ?? null }),
    rowCounts: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.rowCounts ?? null }),
    columns: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.columns ?? null }),
    skipped: t.exposeBoolean('skipped'),
  }),
});

export const ExecutionRef = builder.objectRef<Execution>('Execution');

ExecutionRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    organizationId: t.exposeString('organizationId'),
    environment: t.field({ type: EnvironmentEnum, resolve: (e) => e.environment }),
    workflowId: t.exposeString('workflowId'),
    workflowVersion: t.exposeString('workflowVersion', { nullable: true }),
    status: t.field({ type: ExecutionStatusEnum, resolve: (e) => e.status }),
    progress: t.field({ type: ProgressRef, nullable: true, resolve: progressOf }),
    inputs: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.inputs }),
    output: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.output }),
    metadata: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.metadata }),
    resolvedVariables: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.resolvedVariables }),
    error: t.field({ type: ExecutionErrorRef, nullable: true, resolve: errorOf }),
    trigger: t.field({ type: TriggerRef, resolve: triggerOf }),
    initiatedBy: t.exposeString('initiatedBy', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.startedAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.completedAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (e) => e.updatedAt }),
    durationMs: t.float({
      nullable: true,
      description: 'completedAt − (startedAt ?? createdAt); null until terminal',
      resolve: durationMsOf,
    }),
    stats: t.field({ type: StatsRef, resolve: statsOf }),
    steps: t.field({ type: [StepRef], resolve: stepsOf }),
    lastSequence: t.exposeInt('lastSequence', { description: 'Sequence of the newest event (0 = none)' }),
    timeoutSeconds: t.exposeInt('timeoutSeconds', { nullable: true }),
    heartbeatTimeoutSeconds: t.exposeInt('heartbeatTimeoutSeconds', { nullable: true }),
    deadlineAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.deadlineAt }),
    tags: t.field({ type: [TagRef], description: 'Sorted by key, in code-point order', resolve: tagsOf }),
    parentExecutionId: t.exposeID('parentExecutionId', { nullable: true }),
    parent: t.field({
      type: ExecutionRef,
      nullable: true,
      resolve: (e, _args, ctx) => (e.parentExecutionId ? loadersOf(ctx).parent.load(e.parentExecutionId) : null),
    }),
    rootExecutionId: t.exposeID('rootExecutionId', { description: 'Its own id when it has no parent' }),
    children: t.field({
      type: ConnectionRef,
      description: 'Executions created with this one as parent, newest first',
      args: {
        filter: t.arg({ type: ExecutionFilter }),
        first: t.arg.int({ defaultValue: 20 }),
        after: t.arg.string(),
      },
      resolve: (e, args, ctx) => childrenLoader(ctx, args).load(e.id),
    }),
    attempt: t.exposeInt('attempt', { description: "1, or retryOf's attempt + 1" }),
    retryOf: t.exposeID('retryOf', { nullable: true }),
    retries: t.field({
      type: [ExecutionRef],
      description: 'Executions created with retryOf = this one, oldest first',
      resolve: (e, _args, ctx) => loadersOf(ctx).retries.load(e.id),
    }),
    pinned: t.exposeBoolean('pinned', { description: 'Kept by retention' }),
    events: t.field({
      type: [ExecutionEventRef],
      description: 'Stored events with sequence > after, oldest first',
      args: { after: t.arg.int({ defaultValue: 0 }), first: t.arg.int({ defaultValue: 100 }) },
      resolve: (e, args, ctx) =>
        readEvents(ctx.db, e.id, Math.max(0, args.after ?? 0), Math.min(Math.max(args.first ?? 100, 0), 500)),
    }),
  }),
});

export const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const EdgeRef = builder.objectRef<{ cursor: string; node: Execution }>('ExecutionEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.field({ type: ExecutionRef, resolve: (e) => e.node }),
  }),
});

const ConnectionRef = builder.objectRef<Page>('ExecutionConnection');
ConnectionRef.implement({
  fields: (t) => ({
    edges: t.field({
      type: [EdgeRef],
      resolve: (p) => p.nodes.map((node, i) => ({ node, cursor: p.cursors[i] ?? '' })),
    }),
    nodes: t.field({ type: [ExecutionRef], resolve: (p) => p.nodes }),
    pageInfo: t.field({
      type: PageInfoRef,
      resolve: (p) => ({ hasNextPage: p.hasNextPage, endCursor: p.cursors.at(-1) ?? null }),
    }),
  }),
});

const WaitResultRef = builder.objectRef<WaitResult>('ExecutionWaitResult').implement({
  fields: (t) => ({
    completed: t.exposeBoolean('completed', { description: 'True when terminal; false when the timeout passed first' }),
    execution: t.field({ type: ExecutionRef, resolve: (r) => r.execution }),
    durationMs: t.exposeFloat('durationMs', { description: 'How long the wait took' }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

export const StatusCountRef = builder.objectRef<ExecutionCounts['byStatus'][number]>('StatusCount').implement({
  fields: (t) => ({
    status: t.field({ type: ExecutionStatusEnum, resolve: (c) => c.status }),
    count: t.exposeInt('count'),
  }),
});

const CountsRef = builder.objectRef<ExecutionCounts>('ExecutionCounts').implement({
  fields: (t) => ({
    total: t.exposeInt('total'),
    byStatus: t.field({
      type: [StatusCountRef],
      description: 'Every status, zero counts included',
      resolve: (c) => c.byStatus,
    }),
  }),
});

builder.queryFields((t) => ({
  execution: t.field({
    type: ExecutionRef,
    nullable: true,
    description: 'Null when absent or not visible to the caller',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => findExecution(ctx.db, ctx.principal, String(args.id)),
  }),
  executions: t.field({
    type: ConnectionRef,
    description: 'Newest first (createdAt desc, id desc), cursor pagination',
    args: {
      filter: t.arg({ type: ExecutionFilter }),
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx) => listExecutions(ctx.db, ctx.principal, args),
  }),
  executionCounts: t.field({
    type: CountsRef,
    description: 'How many executions match the filter, in total and by status',
    args: { filter: t.arg({ type: ExecutionFilter }) },
    resolve: (_root, args, ctx) => countExecutions(ctx.db, ctx.principal, args.filter),
  }),
  waitForExecution: t.field({
    type: WaitResultRef,
    description:
      'Returns at once when the execution is terminal, else as soon as it becomes terminal, else completed: false ' +
      'at the timeout (seconds, 1..3600)',
    args: { id: t.arg.id({ required: true }), timeout: t.arg.float({ defaultValue: DEFAULT_WAIT_TIMEOUT_SECONDS }) },
    resolve: (_root, args, ctx) =>
      waitForExecution(
        ctx.feed,
        ctx.db,
        ctx.principal,
        String(args.id),
        args.timeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
        ctx.signal,
      ),
  }),
}));

builder.subscriptionField('executionUpdated', (t) =>
  t.field({
    type: ExecutionRef,
    description: 'The execution after every change that matches the filter (for dashboards)',
    args: { filter: t.arg({ type: ExecutionFilter }) },
    subscribe: (_root, args, ctx) => openUpdateStream(ctx.feed, ctx.principal, args.filter),
    resolve: (e) => e,
  }),
);
