import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executionLogs } from '../db/schema.js';
import { prepared } from '../db/statement-cache.js';
import { type LogInput, type LogLevel, parse, VIGIL_LOG_STREAM } from './inputs.js';
import type { ExecutionEvent } from './types.js';

/** The payload of a LOG event, as stored in `execution_logs` and delivered (API.md §8 `LogEvent`). */
export interface LogPayload {
  [key: string]: unknown;
  stream: string;
  level: LogLevel | null;
  text: string;
}

/** What a batch carries of an execution's log accounting (`executions.log_bytes`, `log_truncated`). */
export interface LogState {
  logBytes: number;
  logTruncated: boolean;
}

/**
 * The LOG event to store for a worker's line, applying the per-execution cap (API.md §8): a line that would cross
 * `limit` bytes, and every line after it, is dropped whole; the first drop stores one `vigil` WARN notice instead
 * (not counted in logBytes). Returns null when nothing is stored. Mutates `state`; the caller holds the row lock, so
 * concurrent batches see each other's counts and the notice is written once.
 */
export function applyLog(state: LogState, input: LogInput, limit: number): LogPayload | null {
  if (state.logTruncated) return null;
  const bytes = Buffer.byteLength(input.text, 'utf8');
  if (state.logBytes + bytes > limit) {
    state.logTruncated = true;
    return {
      stream: VIGIL_LOG_STREAM,
      level: 'WARN',
      text: `Log output past ${limit} bytes was dropped (VIGIL_LOG_LIMIT_BYTES); the run's other events still apply.\n`,
    };
  }
  state.logBytes += bytes;
  return { stream: input.stream ?? 'stdout', level: input.level ?? null, text: input.text };
}

/** Rows of `execution_logs` as events of the one sequence. */
function toEvent(row: typeof executionLogs.$inferSelect): ExecutionEvent {
  return {
    executionId: row.executionId,
    sequence: row.sequence,
    type: 'LOG',
    payload: { stream: row.stream, level: row.level, text: row.text },
    occurredAt: row.occurredAt,
    recordedAt: row.recordedAt,
  };
}

/**
 * LOG events of one execution with sequence in (after, upTo], oldest first, at most `limit`. No tenant check: callers
 * have already resolved the execution for their principal.
 */
export async function readLogs(
  db: Executor,
  executionId: string,
  after: number,
  limit: number,
  upTo = 2_147_483_647,
): Promise<ExecutionEvent[]> {
  const statement = prepared(db, 'read_logs', (d) =>
    d
      .select()
      .from(executionLogs)
      .where(
        and(
          eq(executionLogs.executionId, sql.placeholder('id')),
          gt(executionLogs.sequence, sql.placeholder('after')),
          sql`${executionLogs.sequence} <= ${sql.placeholder('upTo')}`,
        ),
      )
      .orderBy(asc(executionLogs.sequence))
      .limit(sql.placeholder('limit'))
      .prepare('read_logs'),
  );
  const rows = await statement.execute({ id: executionId, after, upTo, limit });
  return (rows as (typeof executionLogs.$inferSelect)[]).map(toEvent);
}

/** `Execution.logs(after, first)` and the REST logs endpoint page through at most this many lines per read. */
export const MAX_LOG_PAGE = 10_000;
export const logPageInput = z.strictObject({
  after: z.int().min(0),
  first: z.int().min(0).max(MAX_LOG_PAGE),
});

/**
 * `Execution.logs(after, first)` of several executions in one read (a list that selects logs: one query, not one per
 * row), in the order of `executionIds`; each page is an ordered range of the primary key. The caller can see them.
 */
export async function logPages(
  db: Executor,
  executionIds: readonly string[],
  raw: unknown,
): Promise<ExecutionEvent[][]> {
  const { after, first } = parse(logPageInput, raw);
  if (first === 0) return executionIds.map(() => []);
  const page = db
    .select()
    .from(executionLogs)
    .where(and(sql`${executionLogs.executionId} = p.id`, gt(executionLogs.sequence, after)))
    .orderBy(asc(executionLogs.sequence))
    .limit(first)
    .as('l');
  const rows = await db
    .select({
      executionId: page.executionId,
      sequence: page.sequence,
      stream: page.stream,
      level: page.level,
      text: page.text,
      occurredAt: page.occurredAt,
      recordedAt: page.recordedAt,
    })
    .from(sql`unnest(${pgArray([...executionIds])}::uuid[]) as p(id)`)
    .crossJoinLateral(page);
  const byId = new Map<string, ExecutionEvent[]>(executionIds.map((id) => [id, []]));
  for (const row of rows) byId.get(row.executionId)?.push(toEvent(row));
  return executionIds.map((id) => byId.get(id) ?? []);
}

/** The sequence of an execution's newest LOG event (0 when none): the end of a read of the logs as they are now. */
export async function lastLogSequence(db: Executor, executionId: string): Promise<number> {
  const [row] = await db
    .select({ last: sql<number | null>`max(${executionLogs.sequence})` })
    .from(executionLogs)
    .where(eq(executionLogs.executionId, executionId));
  return Number(row?.last ?? 0);
}

/** A LOG event's text as the logs endpoint writes it: as written, with a newline added where one is missing. */
export function textLine(e: ExecutionEvent): string {
  const { text } = e.payload as LogPayload;
  return text.endsWith('\n') ? text : `${text}\n`;
}
