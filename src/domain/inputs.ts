import { z } from 'zod';
import { type ValidationIssue, VigilError } from './errors.js';
import { EXECUTION_STATUSES, MESSAGE_STATUSES, STEP_STATUSES } from './types.js';

/**
 * The input schemas of the domain. GraphQL and REST validate through these same schemas, so a bad value gets
 * the same VALIDATION_FAILED everywhere; the REST OpenAPI document is generated from them too.
 */
export const DEFAULT_JSON_FIELD_LIMIT = 64 * 1024;
/** Events in one recordExecutionEvents batch. */
export const MAX_BATCH = 1000;

/** What one server validates inputs against (`DomainContext.limits`, from VIGIL_JSON_FIELD_LIMIT). */
export interface InputLimits {
  /** Bytes of one JSON field (inputs, output, metadata, …) once serialized. */
  jsonField: number;
  /** Bytes of log text stored per execution (VIGIL_LOG_LIMIT_BYTES); DEFAULT_LOG_LIMIT_BYTES when absent. */
  logBytes?: number;
}
export const DEFAULT_LOG_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The JSON field limit of the `parse` call in progress. A zod refinement takes no per-call argument, so `parse`
 * sets this around one synchronous `safeParse` (nothing else runs in between) and restores it at once: every call
 * validates with its own server's limit, and nothing of one call outlives it.
 */
let jsonFieldLimit = DEFAULT_JSON_FIELD_LIMIT;

/** NUL and lone surrogates: PostgreSQL refuses the first in text and jsonb, and the second in jsonb. */
const LONE_SURROGATE = /\p{Cs}/u;
/** The same characters as JSON.stringify writes them: `\u0000`, `\udXXX` (paired surrogates stay unescaped). */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;
const UNSTORABLE_MESSAGE = 'must not contain NUL (\\u0000) or unpaired surrogate characters';
export const storable = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

export const uuidSchema = z.uuid();
/** An execution id in an input, lowercased so that equal ids compare (and hash) equal. */
const uuidOf = (what: string) =>
  z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.uuid(`must be the id of ${what}`));

const text = (max: number) => z.string().max(max).refine(storable, UNSTORABLE_MESSAGE);
const name = (max = 200) => z.string().min(1).max(max).refine(storable, UNSTORABLE_MESSAGE);

/** Any JSON value, at most the server's JSON field limit (`InputLimits`) serialized. */
function checkJsonSize(v: unknown, ctx: z.RefinementCtx): void {
  if (v === undefined) return;
  let serialized: string;
  try {
    serialized = JSON.stringify(v) ?? '';
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return;
  }
  const size = Buffer.byteLength(serialized, 'utf8');
  if (size > jsonFieldLimit) {
    ctx.addIssue({ code: 'custom', message: `JSON value over ${jsonFieldLimit} bytes` });
  } else if (UNSTORABLE_ESCAPE.test(serialized)) {
    ctx.addIssue({ code: 'custom', message: UNSTORABLE_MESSAGE });
  }
}
export const jsonValue = z.unknown().superRefine(checkJsonSize);

/**
 * ISO 8601 with a zone (`Z` or an offset), in years 1–9999 once in UTC: the range both databases store and
 * `toISOString` writes as four digits (year 0 is a database error, not a bad request, without this bound).
 */
export const isoDateTime = z.iso.datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'must be between years 0001 and 9999 (UTC)');

export const executionErrorInput = z.strictObject({
  code: name(100),
  message: z.string().min(1).max(4000).refine(storable, UNSTORABLE_MESSAGE),
  step: text(200).nullish(),
  details: jsonValue.optional(),
});

export const triggerInput = z.strictObject({
  type: name(100),
  eventId: text(200).nullish(),
  eventType: text(200).nullish(),
  entityType: text(200).nullish(),
  entityId: text(200).nullish(),
});

/** API.md §8: at most 32 tags; key 1–64 of `[A-Za-z0-9_.:/-]`; value 0–256 characters. */
export const TAG_LIMITS = { count: 32, keyLength: 64, valueLength: 256 } as const;
const TAG_KEY = /^[A-Za-z0-9_.:/-]{1,64}$/;

export const tagKey = z
  .string()
  .regex(TAG_KEY, `must be 1–${TAG_LIMITS.keyLength} characters of A-Z a-z 0-9 _ . : / -`);
export const tagInput = z.strictObject({
  key: tagKey,
  value: z
    .string()
    .refine((v) => [...v].length <= TAG_LIMITS.valueLength, `must be at most ${TAG_LIMITS.valueLength} characters`)
    .refine(storable, UNSTORABLE_MESSAGE),
});
export type TagInput = z.infer<typeof tagInput>;

/** Refuses a key given twice (API.md §8), naming the second occurrence. */
function uniqueKeys(field: 'key' | null) {
  return (items: readonly (TagInput | string)[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const key = typeof item === 'string' ? item : item.key;
      if (seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: field ? [i, field] : [i], message: `duplicate tag key ${key}` });
      }
      seen.add(key);
    });
  };
}

export const tagList = z.array(tagInput).max(TAG_LIMITS.count).superRefine(uniqueKeys('key'));

/** A worker's change of tags: `set` adds or replaces, `remove` deletes (API.md §8). */
export const tagsInput = z
  .strictObject({
    set: tagList.nullish(),
    remove: z.array(tagKey).max(TAG_LIMITS.count).superRefine(uniqueKeys(null)).nullish(),
  })
  .superRefine((t, ctx) => {
    const setting = new Set((t.set ?? []).map((x) => x.key));
    (t.remove ?? []).forEach((key, i) => {
      if (setting.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['remove', i], message: `tag ${key} is both set and removed` });
      }
    });
  });

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** API.md §8: one text is at most 64 KiB of UTF-8. */
export const LOG_TEXT_MAX_BYTES = 65_536;
/** The stream of Vigil's own notices (the truncation marker); a worker may not write to it. */
export const VIGIL_LOG_STREAM = 'vigil';
const LOG_STREAM = /^[A-Za-z0-9_.:/-]{1,64}$/;

/** A worker's line (or lines) of output: as written, newlines and ANSI colours included (API.md §8). */
export const logInput = z.strictObject({
  text: z
    .string()
    .refine(
      // A UTF-16 code unit is at most 3 bytes of UTF-8 (a pair, 4): most texts need no count.
      (v) => v.length * 3 <= LOG_TEXT_MAX_BYTES || Buffer.byteLength(v, 'utf8') <= LOG_TEXT_MAX_BYTES,
      `must be at most ${LOG_TEXT_MAX_BYTES} bytes of UTF-8`,
    )
    .refine(storable, UNSTORABLE_MESSAGE),
  stream: z
    .string()
    .regex(LOG_STREAM, 'must be 1–64 characters of A-Z a-z 0-9 _ . : / -')
    .refine((v) => v !== VIGIL_LOG_STREAM, `"${VIGIL_LOG_STREAM}" is reserved for the server's own notices`)
    .nullish(),
  level: z.enum(LOG_LEVELS).nullish(),
});
export type LogInput = z.infer<typeof logInput>;

export const createExecutionInput = z.strictObject({
  workflowId: name(),
  workflowVersion: text(100).nullish(),
  trigger: triggerInput.nullish(),
  initiatedBy: text(200).nullish(),
  inputs: jsonValue.optional(),
  metadata: jsonValue.optional(),
  resolvedVariables: jsonValue.optional(),
  idempotencyKey: name(200).nullish(),
  timeoutSeconds: z.int().min(1).max(31_536_000).nullish(),
  heartbeatTimeoutSeconds: z.int().min(1).max(31_536_000).nullish(),
  tags: tagList.nullish(),
  parentExecutionId: uuidOf('a parent execution').nullish(),
  retryOf: uuidOf('the execution retried').nullish(),
});
export type CreateExecutionInput = z.infer<typeof createExecutionInput>;

const statusChangedInput = z.strictObject({
  to: z.enum(EXECUTION_STATUSES),
  error: executionErrorInput.nullish(),
  output: jsonValue.optional(),
});
const progressInput = z.strictObject({
  step: text(200).nullish(),
  percentage: z.number().min(0).max(100),
});
const stepInput = z.strictObject({
  stepId: name(),
  name: text(200).nullish(),
  type: text(100).nullish(),
  status: z.enum(STEP_STATUSES),
  error: executionErrorInput.nullish(),
  outputs: jsonValue.optional(),
  artifacts: jsonValue.optional(),
  rowCounts: jsonValue.optional(),
  columns: jsonValue.optional(),
  skipped: z.boolean().nullish(),
});
const messageInput = z.strictObject({
  messageId: name(),
  adapter: text(200).nullish(),
  status: z.enum(MESSAGE_STATUSES),
  error: executionErrorInput.nullish(),
});

const KINDS = ['statusChanged', 'progress', 'step', 'message', 'tags', 'log'] as const;

export const executionEventInput = z
  .strictObject({
    statusChanged: statusChangedInput.nullish(),
    progress: progressInput.nullish(),
    step: stepInput.nullish(),
    message: messageInput.nullish(),
    tags: tagsInput.nullish(),
    log: logInput.nullish(),
    occurredAt: isoDateTime.nullish(),
  })
  .superRefine((e, ctx) => {
    const set = KINDS.filter((k) => e[k] != null);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `exactly one of ${KINDS.join(', ')} must be set (got ${set.length})`,
      });
    }
  });
export type ExecutionEventInput = z.infer<typeof executionEventInput>;

export const eventBatchInput = z.array(executionEventInput).max(MAX_BATCH);
/** A worker's key for one batch (`recordExecutionEvents(idempotencyKey:)`): a replay answers the first outcome. */
export const batchKeyInput = name(200).nullish();

export const waitTimeoutSeconds = z.number().min(1).max(3600);
/** How long a wait or a stream lasts when the client names no timeout (seeds 000 and 002, GraphQL's arguments). */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 300;

/** The start of an id as the API writes it (lowercase hex in the 8-4-4-4-12 layout); case does not matter. */
const ID_LAYOUT = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
export const idPrefix = z
  .string()
  .min(1)
  .max(36)
  .transform((v) => v.toLowerCase())
  .refine(
    // Anything but hex digits and dashes (the letter x too, the layout's own placeholder) fails to match.
    (v) => ID_LAYOUT.startsWith(v.replace(/[^0-9a-f-]/g, '?').replace(/[0-9a-f]/g, 'x')),
    'must be the start of an execution id (hex digits and dashes in its layout)',
  );

export const executionFilterInput = z.strictObject({
  status: z.array(z.enum(EXECUTION_STATUSES)).max(8).nullish(),
  workflowId: name().nullish(),
  createdAfter: isoDateTime.nullish(),
  createdBefore: isoDateTime.nullish(),
  tags: tagList.nullish(),
  parentExecutionId: uuidOf('an execution').nullish(),
  rootExecutionId: uuidOf('an execution').nullish(),
  workflowIdPrefix: name().nullish(),
  idPrefix: idPrefix.nullish(),
});
export type ExecutionFilter = z.infer<typeof executionFilterInput>;

export const errorInfoInput = z
  .record(z.string(), z.unknown())
  .superRefine((v, ctx) => {
    if (v.code !== undefined && typeof v.code !== 'string')
      ctx.addIssue({ code: 'custom', path: ['code'], message: 'must be a string' });
    if (v.message !== undefined && typeof v.message !== 'string')
      ctx.addIssue({ code: 'custom', path: ['message'], message: 'must be a string' });
  })
  .superRefine(checkJsonSize);

/** Turns zod issues into FastAPI-style items rooted at `root` (e.g. ['body']). */
export function issuesOf(error: z.ZodError, root: (string | number)[] = []): ValidationIssue[] {
  return error.issues.map((i) => ({
    loc: [...root, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    msg: i.message,
    type: i.code,
  }));
}

/** Parses `value` with the given limits (the defaults when none) or throws VALIDATION_FAILED naming every bad field. */
export function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  root: (string | number)[] = [],
  limits?: InputLimits,
): z.output<T> {
  const outer = jsonFieldLimit;
  jsonFieldLimit = limits?.jsonField ?? DEFAULT_JSON_FIELD_LIMIT;
  let r: z.ZodSafeParseResult<z.output<T>>;
  try {
    r = schema.safeParse(value);
  } finally {
    jsonFieldLimit = outer;
  }
  if (r.success) return r.data;
  const issues = issuesOf(r.error, root);
  const first = issues[0];
  const where = first?.loc.length ? `${first.loc.join('.')}: ` : '';
  throw new VigilError('VALIDATION_FAILED', `Invalid input: ${where}${first?.msg ?? 'invalid'}`, { issues });
}
