import {
  type ExecutionOverview,
  executionOverview,
  OVERVIEW_MAX_BUCKETS,
  OVERVIEW_MAX_DAYS,
  type OverviewBucket,
  type WorkflowDurations,
} from '../domain/overview.js';
import { builder } from './builder.js';
import { StatusCountRef } from './execution.js';
import { ExecutionFilter } from './inputs.js';

const BucketRef = builder.objectRef<OverviewBucket>('OverviewBucket').implement({
  description: 'Executions created in [start, start + bucketSeconds)',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (b) => b.start }),
    total: t.exposeInt('total'),
    byStatus: t.field({
      type: [StatusCountRef],
      description: 'Every status, zero counts included',
      resolve: (b) => b.byStatus,
    }),
  }),
});

const WorkflowDurationsRef = builder.objectRef<WorkflowDurations>('WorkflowDurations').implement({
  description: 'Durations of the finished executions of one workflow in the range',
  fields: (t) => ({
    workflowId: t.exposeString('workflowId'),
    finished: t.exposeInt('finished', { description: 'Executions with a completedAt, the ones measured' }),
    p50Ms: t.exposeFloat('p50Ms'),
    p95Ms: t.exposeFloat('p95Ms'),
  }),
});

const OverviewRef = builder.objectRef<ExecutionOverview>('ExecutionOverview').implement({
  fields: (t) => ({
    from: t.field({ type: 'DateTime', resolve: (o) => o.from }),
    to: t.field({ type: 'DateTime', resolve: (o) => o.to }),
    bucketSeconds: t.exposeInt('bucketSeconds'),
    buckets: t.field({
      type: [BucketRef],
      description: 'Oldest first, one per bucket, empty ones included',
      resolve: (o) => o.buckets,
    }),
    workflows: t.field({
      type: [WorkflowDurationsRef],
      description: 'The 20 workflows with the most finished executions, most first',
      resolve: (o) => o.workflows,
    }),
  }),
});

builder.queryField('executionOverview', (t) =>
  t.field({
    type: OverviewRef,
    description:
      'Executions created in [from, to) matching the filter: counts per time bucket and status, and p50/p95 ' +
      `duration per workflow. At most ${OVERVIEW_MAX_DAYS} days and ${OVERVIEW_MAX_BUCKETS} buckets.`,
    args: {
      filter: t.arg({ type: ExecutionFilter }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      bucketSeconds: t.arg.int({ required: true }),
    },
    resolve: (_root, args, ctx) => executionOverview(ctx.db, ctx.principal, args),
  }),
);
