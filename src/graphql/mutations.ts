import { createExecution } from '../domain/executions.js';
import { setExecutionPinned } from '../domain/pin.js';
import { type RecordResult, recordEvents } from '../domain/record.js';
import { type StatusUpdateResult, updateStatusByClient } from '../domain/transitions.js';
import { builder } from './builder.js';
import { ExecutionStatusEnum, ExecutionStatusTargetEnum } from './enums.js';
import { ExecutionEventRef } from './events.js';
import { ExecutionRef } from './execution.js';
import { CreateExecutionInput, ExecutionEventInput } from './inputs.js';

const RecordResultRef = builder.objectRef<RecordResult>('RecordExecutionEventsResult').implement({
  fields: (t) => ({
    execution: t.field({ type: ExecutionRef, resolve: (r) => r.execution }),
    events: t.field({
      type: [ExecutionEventRef],
      description: 'The events this batch appended, in order',
      resolve: (r) => r.events,
    }),
  }),
});

const StatusUpdateResultRef = builder.objectRef<StatusUpdateResult>('ExecutionStatusUpdateResult').implement({
  fields: (t) => ({
    success: t.exposeBoolean('success'),
    execution: t.field({ type: ExecutionRef, resolve: (r) => r.execution }),
    previousStatus: t.field({ type: ExecutionStatusEnum, resolve: (r) => r.previousStatus }),
    currentStatus: t.field({ type: ExecutionStatusEnum, resolve: (r) => r.currentStatus }),
    message: t.exposeString('message'),
  }),
});

builder.mutationFields((t) => ({
  createExecution: t.field({
    type: ExecutionRef,
    description: 'Creates an execution in PENDING; with idempotencyKey a retry returns the same execution',
    args: { input: t.arg({ type: CreateExecutionInput, required: true }) },
    resolve: (_root, args, ctx) => createExecution(ctx.domain, ctx.principal, args.input),
  }),
  recordExecutionEvents: t.field({
    type: RecordResultRef,
    description:
      'Appends a batch of events, all or nothing; an empty list is a heartbeat. A batch for a terminal execution ' +
      'fails with INVALID_STATUS_TRANSITION (how a worker learns its execution was cancelled)',
    args: {
      executionId: t.arg.id({ required: true }),
      events: t.arg({ type: [ExecutionEventInput], required: true }),
      idempotencyKey: t.arg.string({
        description:
          "The worker's key for this batch (scoped to the execution): the same batch sent again under it answers " +
          'its first outcome and writes nothing; a different batch under it is IDEMPOTENCY_CONFLICT',
      }),
    },
    resolve: (_root, args, ctx) =>
      recordEvents(ctx.domain, ctx.principal, String(args.executionId), args.events, args.idempotencyKey),
  }),
  updateExecutionStatus: t.field({
    type: StatusUpdateResultRef,
    description:
      'CANCELLED needs executions:write; FAILED and COMPLETED need executions:admin. The same terminal status again ' +
      'is an idempotent success. cascade (only with CANCELLED) also cancels every non-terminal descendant, in the ' +
      'same transaction',
    args: {
      id: t.arg.id({ required: true }),
      status: t.arg({ type: ExecutionStatusTargetEnum, required: true }),
      errorInfo: t.arg({ type: 'JSON' }),
      cascade: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) =>
      updateStatusByClient(ctx.domain, ctx.principal, String(args.id), args.status, args.errorInfo, !!args.cascade),
  }),
  setExecutionPinned: t.field({
    type: ExecutionRef,
    description:
      'Pins or unpins an execution (executions:write): retention never deletes a pinned execution, nor any member ' +
      'of its tree (API.md §10)',
    args: { id: t.arg.id({ required: true }), pinned: t.arg.boolean({ required: true }) },
    resolve: (_root, args, ctx) => setExecutionPinned(ctx.domain, ctx.principal, String(args.id), args.pinned),
  }),
}));
