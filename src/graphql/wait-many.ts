import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../domain/inputs.js';
import { WAIT_MODES } from '../domain/wait-many.js';
import { type ExecutionsWaitResult, waitForExecutions } from '../feed/wait-many.js';
import { builder } from './builder.js';
import { ExecutionRef } from './execution.js';
import { ExecutionFilter } from './inputs.js';

const WaitModeEnum = builder.enumType('WaitMode', {
  description: 'ALL: every execution terminal; ANY: the first one terminal',
  values: WAIT_MODES,
});

const ExecutionsWaitResultRef = builder.objectRef<ExecutionsWaitResult>('ExecutionsWaitResult').implement({
  fields: (t) => ({
    completed: t.exposeBoolean('completed', {
      description: "True when the mode's condition holds; false when the timeout passed first",
    }),
    executions: t.field({
      type: [ExecutionRef],
      description: 'In the order of ids, or newest first for a filter',
      resolve: (r) => r.executions,
    }),
    durationMs: t.exposeFloat('durationMs', { description: 'From receiving the request to answering' }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

builder.queryField('waitForExecutions', (t) =>
  t.field({
    type: ExecutionsWaitResultRef,
    description:
      'Waits on exactly one of ids (1–1,000, no duplicates) or filter (the executions matching it at each moment, ' +
      'at most 1,000): ALL until every one is terminal (with a filter, once at least expectedCount match), ANY ' +
      'until the first is; completed: false at the timeout (seconds, 1..3600). API.md §9',
    args: {
      ids: t.arg.idList(),
      filter: t.arg({ type: ExecutionFilter }),
      mode: t.arg({ type: WaitModeEnum, defaultValue: 'ALL' }),
      expectedCount: t.arg.int({ description: 'ALL with a filter: how many must match (default 1)' }),
      timeout: t.arg.float({ defaultValue: DEFAULT_WAIT_TIMEOUT_SECONDS }),
    },
    resolve: (_root, args, ctx) =>
      waitForExecutions(
        ctx.feed,
        ctx.db,
        ctx.principal,
        {
          ids: args.ids?.map(String),
          filter: args.filter,
          mode: args.mode,
          expectedCount: args.expectedCount,
          timeout: args.timeout,
        },
        ctx.signal,
      ),
  }),
);
