import { type ExecutionEventInput, eventBatchInput, type InputLimits, MAX_BATCH, parse, storable } from './inputs.js';
import { MESSAGE_STATUSES } from './types.js';

/**
 * A batch of events as `eventBatchInput` validates it, taking the events most batches are made of — a message's
 * status, a progress — without zod when each is plainly valid: zod builds a copy of every object it checks and the
 * closures of its checks, a third of what a batch of MESSAGE events allocates on its way to the database (sampled
 * under ingest at 100 events per call), and garbage collection was the largest share of the server's CPU there. Such
 * an event is taken as it came (the request's own objects, which nothing else holds). Any other batch, or one event
 * not plainly valid, goes through zod whole: the errors are zod's, with their paths, as before.
 */
export function parseEvents(raw: unknown, limits?: InputLimits): ExecutionEventInput[] {
  if (Array.isArray(raw) && raw.length <= MAX_BATCH && raw.every(isPlainEvent)) return raw as ExecutionEventInput[];
  return parse(eventBatchInput, raw, ['events'], limits);
}

const MESSAGE_KEYS = new Set(['messageId', 'adapter', 'status', 'error']);
const PROGRESS_KEYS = new Set(['step', 'percentage']);
/** The event's other members (the other kinds, its own time): a plain event has them null or absent. */
const OTHER_MEMBERS = new Set(['statusChanged', 'step', 'tags', 'log', 'occurredAt']);
const STATUSES: ReadonlySet<unknown> = new Set(MESSAGE_STATUSES);

/** An object of the request (JSON's or GraphQL's coercion), not one with a prototype of its own. */
function isRecord(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Zod's `name()`/`text(max)`: a string of at most `max` UTF-16 units (at least one when `min`), storable. */
const isText = (v: unknown, max: number, min = 0): boolean =>
  typeof v === 'string' && v.length >= min && v.length <= max && storable(v);

/**
 * `{message: {messageId, status, adapter?}}` or `{progress: {percentage, step?}}`, every other member of the event
 * null or absent (no error, no time of its own): what zod would accept and give back unchanged.
 */
function isPlainEvent(e: unknown): boolean {
  if (!isRecord(e)) return false;
  let kind: 'message' | 'progress' | null = null;
  for (const key in e) {
    const v = e[key];
    if (key === 'message' || key === 'progress') {
      if (v == null) continue;
      if (kind) return false;
      kind = key;
    } else if (!OTHER_MEMBERS.has(key) || v != null) return false;
  }
  if (kind === 'message') return isPlainMessage(e.message);
  if (kind === 'progress') return isPlainProgress(e.progress);
  return false;
}

function isPlainMessage(m: unknown): boolean {
  if (!isRecord(m)) return false;
  for (const key in m) if (!MESSAGE_KEYS.has(key)) return false;
  return (
    isText(m.messageId, 200, 1) &&
    STATUSES.has(m.status) &&
    m.error == null &&
    (m.adapter == null || isText(m.adapter, 200))
  );
}

function isPlainProgress(p: unknown): boolean {
  if (!isRecord(p)) return false;
  for (const key in p) if (!PROGRESS_KEYS.has(key)) return false;
  const { percentage, step } = p;
  return (
    typeof percentage === 'number' &&
    Number.isFinite(percentage) &&
    percentage >= 0 &&
    percentage <= 100 &&
    (step == null || isText(step, 200))
  );
}
