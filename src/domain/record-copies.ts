import type { Principal } from './access.js';
import type { DomainContext } from './context.js';
import type { ExecutionEventInput } from './inputs.js';
import { ownedBy } from './tenant.js';
import type { Execution } from './types.js';

/**
 * The execution rows this process committed last, each with the `xmin` its update gave the row (the id of the
 * transaction that wrote that version). A batch for one of them can be written in one round trip (`record.ts`): its
 * new state is computed from the copy, and its update is guarded on the row's `xmin` being the copy's. Every write of
 * the row, by any process, makes a new version with a new `xmin` (locking it does not), so the guard holds exactly
 * when nobody wrote the row since: a copy that is out of date costs a failed guard, never a wrong state.
 */
export interface RowCopy {
  row: Execution;
  xmin: string;
}

/**
 * Copies kept per process at most; the least recently written go first, and an evicted one costs one two-trip write.
 * Few: a row carries its inputs and metadata (up to the JSON field limit each), and the writes that gain are those of
 * executions written one after another (a worker reporting, a stream's source); many at once go in shared batches.
 */
const LIMIT = 256;
const copies = new WeakMap<DomainContext, Map<string, RowCopy>>();

export function copyOf(ctx: DomainContext, executionId: string): RowCopy | undefined {
  return copies.get(ctx)?.get(executionId);
}

export function keepCopy(ctx: DomainContext, row: Execution, xmin: string): void {
  let held = copies.get(ctx);
  if (!held) {
    held = new Map();
    copies.set(ctx, held);
  }
  held.delete(row.id); // re-inserted last: Map order is the order of writes
  held.set(row.id, { row, xmin });
  if (held.size > LIMIT) held.delete(held.keys().next().value as string);
}

export function dropCopies(ctx: DomainContext, ids: Iterable<string>): void {
  const held = copies.get(ctx);
  if (held) for (const id of ids) held.delete(id);
}

/** What `copyFor` looks at in a queued request (`record.ts`). */
interface CopyRequest {
  principal: Principal;
  executionId: string;
  inputs: readonly ExecutionEventInput[];
  key?: unknown;
}

/**
 * The copy a batch can be written from in one round trip (by `record.ts`): a batch for one execution this process
 * holds a copy of, that asks nothing of the database but the write: no message lineage to read, no idempotency key,
 * no status change (whose hooks read), no heartbeat alone (its answer is the row as it is). Its one execution means
 * its update locks one row: it cannot deadlock with a batch locking rows in id order.
 */
export function copyFor(ctx: DomainContext, batch: readonly CopyRequest[]): RowCopy | undefined {
  const first = batch[0];
  const copy = first && copyOf(ctx, first.executionId);
  if (!copy) return undefined;
  for (const r of batch) {
    if (r.executionId !== copy.row.id || r.key || r.inputs.length === 0) return undefined;
    if (!ownedBy(r.principal, copy.row)) return undefined;
    for (const e of r.inputs) if (e.message || e.statusChanged) return undefined;
  }
  return copy;
}
