import type { Db, Executor } from '../db/client.js';
import type { InputLimits } from './inputs.js';
import type { Change, ChangeSink, Execution } from './types.js';

/**
 * Work that must commit or roll back with a status change (the webhook outbox, API.md §7).
 * Called inside the transaction, with the transaction.
 */
export interface StatusChangeHook {
  onStatusChanged(tx: Executor, execution: Execution, from: Execution['status'], at: Date): Promise<void>;
}

/** What the domain core needs from its surroundings: the database, a clock, and where committed changes go. */
export interface DomainContext {
  db: Db;
  sink: ChangeSink;
  now: () => Date;
  hooks: StatusChangeHook[];
  /** What inputs are validated against (VIGIL_JSON_FIELD_LIMIT); the defaults of `inputs.ts` when absent. */
  limits?: InputLimits;
  /** VIGIL_RETENTION_DAYS of this instance (API.md §10), shown to clients; 0 or absent: kept forever. */
  retentionDays?: number;
  /** Counts appended events (for metrics); called after commit. */
  onRecorded?: (events: number) => void;
}

export function publish(ctx: DomainContext, changes: Change[]): void {
  if (changes.length > 0) ctx.sink.changed(changes);
}

export async function runHooks(
  ctx: DomainContext,
  tx: Executor,
  execution: Execution,
  from: Execution['status'],
  at: Date,
): Promise<void> {
  for (const hook of ctx.hooks) await hook.onStatusChanged(tx, execution, from, at);
}
