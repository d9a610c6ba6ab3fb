import type { LogPayload } from '../domain/logs.js';
import type { ExecutionEvent } from '../domain/types.js';
import { builder } from './builder.js';
import { ExecutionEventRef } from './events.js';
import { ExecutionRef } from './execution.js';
import { logsLoader } from './loaders.js';
import { LogLevelEnum } from './log-input.js';

/** API.md §8: a run's output on its one event sequence, and the execution's log fields. */
const payload = (e: ExecutionEvent) => e.payload as LogPayload;

export const LogEventRef = builder.objectRef<ExecutionEvent>('LogEvent').implement({
  description:
    "Output of the run as written; stream `vigil` is the server's own notice (e.g. output dropped at the cap)",
  interfaces: [ExecutionEventRef],
  isTypeOf: (e) => (e as ExecutionEvent).type === 'LOG',
  fields: (t) => ({
    stream: t.string({ resolve: (e) => payload(e).stream }),
    level: t.field({ type: LogLevelEnum, nullable: true, resolve: (e) => payload(e).level }),
    text: t.string({ resolve: (e) => payload(e).text }),
  }),
});

builder.objectFields(ExecutionRef, (t) => ({
  logBytes: t.float({
    description: "Bytes of the worker's log text stored (the server's notices not counted)",
    resolve: (e) => Number(e.logBytes),
  }),
  logTruncated: t.boolean({
    description: 'True once output past VIGIL_LOG_LIMIT_BYTES was dropped',
    resolve: (e) => e.logTruncated,
  }),
  logs: t.field({
    type: [LogEventRef],
    description: 'LOG events with sequence > after, oldest first (first: 0..10000)',
    args: { after: t.arg.int({ defaultValue: 0 }), first: t.arg.int({ defaultValue: 1000 }) },
    resolve: (e, args, ctx) => logsLoader(ctx, { after: args.after ?? 0, first: args.first ?? 1000 }).load(e.id),
  }),
}));
