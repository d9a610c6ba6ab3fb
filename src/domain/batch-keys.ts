import { type SQL, sql } from 'drizzle-orm';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executionBatchKeys } from '../db/schema.js';
import { requestHash } from './canonical.js';
import { VigilError } from './errors.js';
import { readEvents } from './events.js';
import type { ExecutionEventInput } from './inputs.js';
import type { ExecutionEvent } from './types.js';

/**
 * Idempotent event batches: a worker that retries a batch after a dropped connection sends it again under the same
 * key. The key is stored with the batch (same transaction, scoped to the execution, deleted with it), so a replay
 * answers the first outcome and writes nothing; the same key with a different batch is IDEMPOTENCY_CONFLICT, as for
 * createExecution (API.md §2, §4: "same idempotencyKey, different request"). A batch that failed wrote nothing, its
 * key included, so sending it again is evaluated afresh.
 */
export interface BatchKey {
  key: string;
  hash: string;
}

export interface StoredKey {
  executionId: string;
  key: string;
  requestHash: string;
  firstSequence: number;
  lastSequence: number;
}

export const keyOf = (executionId: string, key: string) => `${executionId}\u0000${key}`;

/** The batch's key and hash; a log line's stream hashed as stored (`stdout` when omitted), so both edges agree. */
export function batchKey(key: string | null | undefined, inputs: readonly ExecutionEventInput[]): BatchKey | undefined {
  if (!key) return undefined;
  const hashed = inputs.map((e) => (e.log ? { ...e, log: { ...e.log, stream: e.log.stream ?? 'stdout' } } : e));
  return { key, hash: requestHash(hashed) };
}

/** The stored keys among the batch's, read after the row locks (so a concurrent first send has committed). */
export function readKeys(tx: Executor, wanted: { executionId: string; key: string }[]): Promise<StoredKey[]> {
  return tx
    .select()
    .from(executionBatchKeys)
    .where(
      sql`(${executionBatchKeys.executionId}, ${executionBatchKeys.key}) in (select * from unnest(${pgArray(
        wanted.map((w) => w.executionId),
      )}::uuid[], ${pgArray(wanted.map((w) => w.key))}::text[]))`,
    );
}

/** The first outcome's range when this batch replays a stored one; throws on a different batch under the key. */
export function replayOf(stored: StoredKey | undefined, key: BatchKey): { first: number; last: number } | undefined {
  if (!stored) return undefined;
  if (stored.requestHash !== key.hash) {
    throw new VigilError(
      'IDEMPOTENCY_CONFLICT',
      `idempotencyKey ${key.key} was already used for a different batch of execution ${stored.executionId}`,
    );
  }
  return { first: stored.firstSequence, last: stored.lastSequence };
}

export function insertKeys(keys: StoredKey[], now: Date): SQL {
  const col = <T>(f: (k: StoredKey) => T) => pgArray(keys.map((k) => f(k) as never));
  return sql`insert into execution_batch_keys (execution_id, key, request_hash, first_sequence, last_sequence, created_at)
    select v.*, ${now.toISOString()}::timestamptz from unnest(${col((k) => k.executionId)}::uuid[], ${col((k) => k.key)}::text[],
      ${col((k) => k.requestHash)}::text[], ${col((k) => k.firstSequence)}::int[], ${col((k) => k.lastSequence)}::int[])
      as v(execution_id, key, request_hash, first_sequence, last_sequence)`;
}

/** The events a replayed batch appended the first time (committed and immutable, so read outside the batch). */
export async function replayedEvents(
  db: Executor,
  executionId: string,
  range: { first: number; last: number },
): Promise<ExecutionEvent[]> {
  if (range.last < range.first) return [];
  return readEvents(db, executionId, range.first - 1, range.last - range.first + 1, range.last);
}
