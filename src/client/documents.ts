/**
 * What the dashboard and the CLI share about executions: the statuses, and how an event, a duration, a percentage
 * read. The shapes they read are typed by gql.tada from their documents (the CLI's in src/cli/documents.ts, the
 * dashboard's in src/client/sdk/dashboard.ts, the event line both show in src/client/sdk/event-line.ts).
 */
import type { EventLine } from './sdk/event-line.js';
import type { Execution } from './sdk/run.js';

export const STATUSES = [
  'PENDING',
  'RUNNING',
  'WAITING_FOR_INPUT',
  'INTERRUPTED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
] as const;
export type ExecutionStatus = (typeof STATUSES)[number];

export const TERMINAL: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);
export const isTerminal = (status: string): boolean => TERMINAL.has(status);

/** One line describing an event, the same in the dashboard's log and in `vigil watch` (nothing for a log line). */
export function describeEvent(e: EventLine): string {
  // Each kind of event is told by its own fields: the fragment does not ask for `__typename`, and `type` is typed as
  // every kind.
  if ('from' in e) return `${e.from} → ${e.to}${errorText(e.error)}`;
  if ('percentage' in e) return `${formatPercent(e.percentage)}${e.step ? ` ${e.step}` : ''}`;
  if ('stepId' in e) return `step ${e.name ?? e.stepId} ${e.stepStatus}${errorText(e.error)}`;
  if ('messageId' in e) {
    return `message ${e.messageId} ${e.messageStatus}${e.adapter ? ` via ${e.adapter}` : ''}${errorText(e.error)}`;
  }
  if ('removed' in e) return describeTags(e.set, e.removed);
  return '';
}

const errorText = (error: { code: string; message: string } | null): string =>
  error ? ` (${error.code}: ${error.message})` : '';

/** `tags team=data shard=3, removed customer`: what a TAGS_CHANGED event set and removed. */
function describeTags(set: readonly { key: string; value: string }[], removed: readonly string[]): string {
  const parts = [set.map((t) => `${t.key}=${t.value}`).join(' '), removed.length ? `removed ${removed.join(' ')}` : ''];
  return `tags ${parts.filter(Boolean).join(', ')}`.trimEnd();
}

export function formatPercent(p: number): string {
  return `${Number.isInteger(p) ? p : p.toFixed(1)}%`;
}

/** 950 ms, 12.3 s, 4m 05s, 2h 03m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** The running time so far, or the final duration of a terminal execution. */
export function elapsedMs(
  e: Pick<Execution, 'durationMs' | 'status' | 'startedAt' | 'createdAt'>,
  now: number,
): number | null {
  if (e.durationMs != null) return e.durationMs;
  if (isTerminal(e.status)) return null;
  return now - Date.parse(e.startedAt ?? e.createdAt);
}
