import type { Principal } from './access.js';
import type { MessageState } from './batch.js';
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
  /**
   * The state of the messages this process reported last for the row, as of the copy (exact while the guard holds:
   * every report of a message writes the row). A message not here is written from the copy only if it was never
   * reported: the write's statement checks that (`record-rows.ts`), and a message reported before fails it.
   */
  messages: Map<string, MessageState>;
}

/**
 * Copies kept per process at most; the least recently written go first, and an evicted one costs one two-trip write.
 * Few: a row carries its inputs and metadata (up to the JSON field limit each), and the writes that gain are those of
 * executions written one after another (a worker reporting, a stream's source); many at once go in shared batches.
 */
const LIMIT = 256;
/** Message states kept per copy at most, the latest reported: a worker reports a message's end soon after its start. */
const MESSAGES = 256;
const copies = new WeakMap<DomainContext, Map<string, RowCopy>>();

export function copyOf(ctx: DomainContext, executionId: string): RowCopy | undefined {
  return copies.get(ctx)?.get(executionId);
}

/**
 * Keeps the row as this process committed it. `messages` are the states its transaction read or wrote; with `from`
 * (the copy it was written from) they are added to the states that copy knew, in place (its write committed, so the
 * copy is no longer anyone's but this one's), the latest last and the oldest past the limit dropped.
 */
export function keepCopy(
  ctx: DomainContext,
  row: Execution,
  xmin: string,
  messages: Map<string, MessageState> = new Map(),
  from?: RowCopy,
): void {
  let held = copies.get(ctx);
  if (!held) {
    held = new Map();
    copies.set(ctx, held);
  }
  let known = messages;
  if (from && from.messages.size > 0) {
    known = from.messages;
    for (const [id, state] of messages) {
      known.delete(id); // re-inserted last: Map order is the order of reports
      known.set(id, state);
    }
  }
  for (const id of known.keys()) {
    if (known.size <= MESSAGES) break;
    known.delete(id);
  }
  held.delete(row.id); // re-inserted last: Map order is the order of writes
  held.set(row.id, { row, xmin, messages: known });
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
 * The copies a batch can be written from in one round trip (by `record.ts`), by execution id: a batch whose every
 * execution this process holds a copy of, that asks nothing of the database but the write (and the check that its
 * new messages are new): no idempotency key, no status change (whose hooks read), no heartbeat alone (its answer is
 * the row as it is). Its update lists the rows in id order, as a batch under the lock locks them; should two writers
 * still deadlock, PostgreSQL ends one of them, and that batch goes the way under the lock.
 */
export function copiesFor(ctx: DomainContext, batch: readonly CopyRequest[]): Map<string, RowCopy> | undefined {
  const found = new Map<string, RowCopy>();
  for (const r of batch) {
    const copy = found.get(r.executionId) ?? copyOf(ctx, r.executionId);
    if (!copy || r.key || r.inputs.length === 0 || !ownedBy(r.principal, copy.row)) return undefined;
    for (const e of r.inputs) if (e.statusChanged) return undefined;
    found.set(r.executionId, copy);
  }
  return found.size > 0 ? found : undefined;
}

/**
 * The messages of a batch from copies: the states the copies know go into their execution's `messagesOf`; the
 * messages they do not know are answered, each with its execution's index in the batch, for the write to check that
 * none was reported before.
 */
export function messagesFromCopies(
  copies: ReadonlyMap<string, RowCopy>,
  batch: readonly CopyRequest[],
  messagesOf: (executionId: string) => Map<string, MessageState>,
  index: (executionId: string) => number,
): { row: number; messageId: string }[] {
  const unknown = new Map<string, { row: number; messageId: string }>(); // by `<row> <message id>`
  for (const r of batch) {
    const copy = copies.get(r.executionId);
    const known = messagesOf(r.executionId);
    const row = index(r.executionId);
    for (const { message } of r.inputs) {
      if (!message || !copy || known.has(message.messageId)) continue;
      const state = copy.messages.get(message.messageId);
      if (state) known.set(message.messageId, state);
      else unknown.set(`${row} ${message.messageId}`, { row, messageId: message.messageId });
    }
  }
  return [...unknown.values()];
}

/**
 * Keeps the rows a batch committed (at `xmin`), each with the states of its messages the batch read or wrote
 * (`known`, per execution), added to those of the copy it was written from, if any.
 */
export function keepCopies(
  ctx: DomainContext,
  written: readonly Execution[],
  xmin: string,
  known: ReadonlyMap<string, Map<string, MessageState>>,
  from?: ReadonlyMap<string, RowCopy>,
): void {
  for (const row of written) keepCopy(ctx, row, xmin, known.get(row.id), from?.get(row.id));
}
