/**
 * postgres.js's own codes for a connection that is gone or never came (its errors carry them as `code`), and the
 * socket errors Node gives when the server cannot be reached.
 */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL's SQLSTATEs that say the server cannot serve now, not that the statement is wrong: class 08 (connection
 * exception), 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now: starting up or shutting down) and 53300
 * (too many connections).
 */
function isUnavailableState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/**
 * True when a database call failed because the database could not be reached or dropped the connection (so retrying
 * later may work), rather than because of the statement. Looks through `cause` (drizzle wraps driver errors) and
 * AggregateError (Node's connection attempts to several addresses).
 */
export function isConnectionFault(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || isUnavailableState(e.code))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionFault(x, depth + 1))) return true;
  return isConnectionFault(e.cause, depth + 1);
}

/**
 * The two faults postgres.js 3.4.9 raises with no caller to catch them, when a database goes away: the only uncaught
 * exceptions and unhandled rejections the process survives (`src/main.ts`); the test run ignores them too
 * (`vitest.config.ts`). Anything else still ends the process.
 */
export function isKnownDriverFault(err: unknown): boolean {
  return isWriteAfterClose(err) || isTypeFetchFailure(err);
}

/**
 * postgres.js 3.4.9 puts small writes on a `setImmediate`; when the connection has closed by the time it fires, the
 * timer calls `write` on a socket that is now `null` (https://github.com/porsager/postgres/issues/1208): a TypeError
 * thrown from inside the driver, after the statement it carried has already failed as a connection fault. Exit: when
 * postgres.js clears the timer on close (upstream fix), delete this.
 */
function isWriteAfterClose(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown } | null;
  if (e?.name !== 'TypeError' || typeof e.stack !== 'string' || typeof e.message !== 'string') return false;
  return (
    /reading 'write'/.test(e.message) &&
    /nextWrite/.test(e.stack) &&
    /postgres[\\/](cjs[\\/])?src[\\/]connection\.js/.test(e.stack)
  );
}

/**
 * postgres.js 3.4.9 fetches the array types as the first statement of every new connection (`fetch_types`) and drops
 * that promise (`return fetchArrayTypes()` in ReadyForQuery): when the connection dies or the statement is cancelled
 * meanwhile — a database restart does this to the connections opening as it goes down — the rejection has no handler
 * (https://github.com/porsager/postgres/issues/1192, #1223). The caller's own query fails or succeeds on its own terms,
 * so it is as harmless as the write above and is let through with it. Recognized by the statement the driver attaches
 * to the error. Exit: when postgres.js handles that promise (#1192 fixed), delete this.
 */
function isTypeFetchFailure(err: unknown): boolean {
  const query = (err as { query?: unknown } | null)?.query;
  return typeof query === 'string' && /from pg_catalog\.pg_type a\b/.test(query) && /typcategory = 'A'/.test(query);
}
