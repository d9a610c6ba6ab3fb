import { z } from 'zod';

/** Every setting comes from the environment through this one schema, so a bad value fails at start with its name. */
const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  VIGIL_DATA_DIR: z.string().min(1).default('./data'),
  VIGIL_AUTH: z.enum(['on', 'off']).default('off'),
  /** Origins (exact `scheme://host[:port]`, comma-separated) whose pages may call Vigil cross-origin; none by default. */
  VIGIL_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().refine(isExactOrigin, 'each entry must be an exact origin such as https://app.example.com')),
    ),
  VIGIL_RATE_LIMIT: z.coerce.number().positive().optional(),
  VIGIL_RATE_BURST: z.coerce.number().int().positive().optional(),
  /** The lean compiled path for POST /graphql queries and mutations (off: every request through yoga). */
  VIGIL_FAST_GRAPHQL: z.enum(['on', 'off']).default('on'),
  /**
   * Trusted documents (src/graphql/persisted.ts): `allow` runs persisted ids and documents sent as text; `require`
   * runs only the documents of the server's manifest (the dashboard's, the CLI's, GraphiQL's examples; introspection).
   */
  VIGIL_TRUSTED_DOCUMENTS: z.enum(['allow', 'require']).default('allow'),
  /** The HMAC key API key hashes are made with (src/access/keys.ts); the server and `vigil keys` must agree. */
  VIGIL_KEY_PEPPER: z.string().min(1).optional(),
  VIGIL_KEY_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  VIGIL_KEY_RECHECK_MS: z.coerce.number().int().positive().default(5000),
  VIGIL_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  VIGIL_JSON_FIELD_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Bytes of log text stored per execution (API.md §8); past it LOG events are dropped and one notice says so. */
  VIGIL_LOG_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  VIGIL_MAX_WAITERS: z.coerce.number().int().positive().default(50_000),
  VIGIL_MAX_STREAMS: z.coerce.number().int().positive().default(50_000),
  /** graphql-sse single-connection mode: a reserved stream (PUT) not opened within this is closed (its token 404). */
  VIGIL_SSE_RESERVATION_TTL_MS: z.coerce.number().int().positive().default(30_000),
  /** Reserved or open single-connection streams per API key (per address with auth off); past it PUT is 429. */
  VIGIL_SSE_RESERVATIONS_PER_KEY: z.coerce.number().int().positive().default(10),
  /** Comment heartbeat of every event stream Vigil writes (seed 002 asks for at least one every 15 s). */
  VIGIL_SSE_HEARTBEAT_MS: z.coerce.number().int().min(10).max(15_000).default(15_000),
  /** Bytes an event-stream consumer may leave unsent before its stream is ended with an error frame (it re-attaches). */
  VIGIL_SSE_MAX_UNSENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  VIGIL_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
  /** How long `executionChanges` keeps changes (API.md §9): a cursor older than this is refused. Fractions allowed. */
  VIGIL_CHANGES_RETENTION_HOURS: z.coerce.number().positive().default(24),
  /**
   * Retention (API.md §10): terminal executions completed longer ago than this many days are deleted (fractions
   * allowed; 0 keeps everything). Digits only, so a typo or an empty value stops the start instead of meaning 0.
   */
  VIGIL_RETENTION_DAYS: z
    .string()
    .trim()
    .regex(
      /^\d+(\.\d+)?$/,
      'must be a number of days, 0 or more (fractions allowed, e.g. 30 or 0.5; 0 keeps everything)',
    )
    .default('30')
    .transform(Number),
  /** How often each instance looks for due executions (a due execution is gone within this plus one pass). */
  VIGIL_RETENTION_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(30_000),
  /** Trees deleted per transaction; the job pauses between batches (`VIGIL_RETENTION_PAUSE_FACTOR`). */
  VIGIL_RETENTION_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** The pause after each batch, as a multiple of the batch's time: 2 gives deletion at most a third of one connection. */
  VIGIL_RETENTION_PAUSE_FACTOR: z.coerce.number().min(0).max(100).default(2),
  VIGIL_RECHECK_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  VIGIL_SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  VIGIL_WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  VIGIL_WEBHOOK_HORIZON_HOURS: z.coerce.number().positive().default(24),
  VIGIL_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().positive().default(10_000),
  VIGIL_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().positive().default(3_600_000),
  VIGIL_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  VIGIL_WEBHOOK_CONCURRENCY: z.coerce.number().int().positive().default(16),
  VIGIL_WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().positive().default(4),
  VIGIL_WEBHOOK_POLL_MS: z.coerce.number().int().positive().default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: short coloured lines on a terminal, JSON lines (pino) otherwise (API.md §6). */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

/** `https://app.example.com` or `http://localhost:5173`: no path, no trailing slash, no wildcard, not `null`. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
