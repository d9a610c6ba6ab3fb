import type { ExecutionChange } from '../feed/changes.js';
import { currentCursor, openChangeStream } from '../feed/changes.js';
import { builder } from './builder.js';
import { ExecutionRef } from './execution.js';
import { ExecutionFilter } from './inputs.js';

const ExecutionChangeRef = builder.objectRef<ExecutionChange>('ExecutionChange').implement({
  description: 'An execution in its current state after a change; resume with `after: cursor` to miss nothing',
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    execution: t.field({ type: ExecutionRef, resolve: (c) => c.execution }),
  }),
});

builder.queryField('executionChangesCursor', (t) =>
  t.string({
    description:
      "The change feed's position now (API.md §9): take it before a snapshot read (executions), then subscribe " +
      'to executionChanges with it as after',
    resolve: (_root, _args, ctx) => currentCursor(ctx.db, ctx.principal),
  }),
);

builder.subscriptionField('executionChanges', (t) =>
  t.field({
    type: ExecutionChangeRef,
    description:
      'Every execution that changed after the cursor (once each, its current state), then live changes, with no ' +
      'gap and no duplicate between the two; without after, live changes only. A client that resumes with the ' +
      'last cursor it processed misses no change (API.md §9)',
    args: { filter: t.arg({ type: ExecutionFilter }), after: t.arg.string() },
    subscribe: (_root, args, ctx) =>
      openChangeStream(ctx.feed, ctx.db, ctx.principal, { filter: args.filter, after: args.after }),
    resolve: (c) => c,
  }),
);
