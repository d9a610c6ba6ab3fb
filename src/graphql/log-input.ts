import { LOG_LEVELS } from '../domain/inputs.js';
import { builder } from './builder.js';

/** API.md §8: a worker's output line and its level (validated by the domain's zod schema, not here). */
export const LogLevelEnum = builder.enumType('LogLevel', { values: LOG_LEVELS });

export const LogInput = builder.inputType('LogInput', {
  description: 'Output as written (ANSI colours, newlines); at most 64 KiB of UTF-8, no NUL or unpaired surrogate',
  fields: (t) => ({
    text: t.string({ required: true }),
    stream: t.string({
      defaultValue: 'stdout',
      description: "1–64 characters of A-Z a-z 0-9 _ . : / -; `vigil` is the server's own",
    }),
    level: t.field({ type: LogLevelEnum }),
  }),
});
