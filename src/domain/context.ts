import type { SQL } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import type { InputLimits } from './inputs.js';
import type { Change, ChangeSink, Execution } from './types.js';

/** An organization and environment: whose status changes a transaction is about to make. */
export interface Tenant {
  organizationId: string;
  environment: Execution['environment'];
}

/**
 * Work that must commit or roll back with a status change (the webhook outbox, API.md §7).
 * Called inside the transaction, with the transaction.
 */
export interface StatusChangeHook {
  onStatusChanged(tx: Executor, execution: Execution, from: Execution['status'], at: Date): Promise<void>;
  /**
   * The two-step form, for a writer that sends its writes and COMMIT in one round trip: `prepare` sends the reads the
   * hook needs for a tenant's changes (started beside the row lock, so they share its round trip), and `writesFor`
   * then answers, without waiting, the statements that go out with the change's own (null when the tenant was not
   * prepared: `onStatusChanged` runs instead).
   */
  prepare?(tx: Executor, tenant: Tenant): Promise<void>;
  writesFor?(tx: Executor, execution: Execution, from: Execution['status'], at: Date): SQL[] | null;
  /**
   * A condition on the row of `executions` being changed, true in SQL when the hook would write nothing for its status
   * change (read in the statement that makes the change, as `prepare` would read it). A writer that decides in SQL
   * alone (the client's status change in one round trip) makes the change only where it holds, and takes the two-step
   * form otherwise.
   */
  quiet?(): SQL;
  /** Whether, at the hook's last read for the tenant, `quiet` would not have held: a hint, to skip a futile one-trip try. */
  expectsWrites?(tenant: Tenant): boolean;
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

/** Sends every hook's reads for status changes of these tenants; to be started beside the row lock. */
export function prepareHooks(ctx: DomainContext, tx: Executor, tenants: readonly Tenant[]): Promise<unknown> {
  const reads = ctx.hooks.flatMap((hook) => (hook.prepare ? tenants.map((t) => hook.prepare?.(tx, t)) : []));
  return reads.length === 0 ? Promise.resolve() : Promise.all(reads);
}

/**
 * The statements the hooks write for a status change, to be sent with the change's own writes (and its COMMIT); a
 * hook without the two-step form runs here instead, inside the transaction, as `runHooks` runs it.
 */
export async function hookWrites(
  ctx: DomainContext,
  tx: Executor,
  execution: Execution,
  from: Execution['status'],
  at: Date,
): Promise<SQL[]> {
  const writes: SQL[] = [];
  for (const hook of ctx.hooks) {
    const prepared = hook.writesFor?.(tx, execution, from, at);
    if (prepared) writes.push(...prepared);
    else await hook.onStatusChanged(tx, execution, from, at);
  }
  return writes;
}
