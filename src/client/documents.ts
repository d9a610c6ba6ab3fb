/**
 * What the dashboard and the CLI share about executions: the statuses, the shapes the CLI formats (its documents,
 * typed by gql.tada, are in src/cli/documents.ts; the dashboard's in src/client/sdk/dashboard.ts), and how an event,
 * a duration, a percentage read.
 */

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

export interface ExecutionError {
  code: string;
  message: string;
  step: string | null;
  /** Any JSON the worker or administrator attached; asked for on the execution's own error only. */
  details?: unknown;
}

export interface Stats {
  totalMessages: number;
  completedMessages: number;
  failedMessages: number;
  inProgressMessages: number;
  successRate: number;
}

/** What a list row needs; also what `executionUpdated` delivers. */
export interface ExecutionSummary {
  id: string;
  workflowId: string;
  workflowVersion: string | null;
  environment: string;
  status: ExecutionStatus;
  progress: { step: string | null; percentage: number } | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  durationMs: number | null;
  lastSequence: number;
  stats: Stats;
  error: ExecutionError | null;
}

export interface Step {
  id: string;
  name: string | null;
  type: string | null;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  skipped: boolean;
  error: ExecutionError | null;
}

export interface ExecutionDetail extends ExecutionSummary {
  organizationId: string;
  initiatedBy: string | null;
  trigger: { type: string; eventId: string | null; eventType: string | null; entityType: string | null } | null;
  timeoutSeconds: number | null;
  heartbeatTimeoutSeconds: number | null;
  deadlineAt: string | null;
  inputs: unknown;
  output: unknown;
  metadata: unknown;
  steps: Step[];
}

export interface ExecutionEvent {
  sequence: number;
  executionId: string;
  type: 'STATUS_CHANGED' | 'PROGRESS' | 'STEP' | 'MESSAGE' | 'TAGS_CHANGED';
  occurredAt: string;
  from?: string;
  to?: string;
  error?: ExecutionError | null;
  step?: string | null;
  percentage?: number;
  stepId?: string;
  name?: string | null;
  stepType?: string | null;
  stepStatus?: string;
  messageId?: string;
  adapter?: string | null;
  messageStatus?: string;
  set?: readonly { key: string; value: string }[];
  removed?: readonly string[];
}

/** The fields of an event that {@link describeEvent} reads: the CLI's `ExecutionEvent`, and the dashboard's. */
type Describable = Omit<ExecutionEvent, 'type'> & { type: string };

/** One line describing an event, the same in the dashboard's log and in `vigil watch`. */
export function describeEvent(e: Describable): string {
  switch (e.type) {
    case 'STATUS_CHANGED':
      return `${e.from} → ${e.to}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
    case 'PROGRESS':
      return `${formatPercent(e.percentage ?? 0)}${e.step ? ` ${e.step}` : ''}`;
    case 'STEP':
      return `step ${e.name ?? e.stepId} ${e.stepStatus}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
    case 'MESSAGE':
      return `message ${e.messageId} ${e.messageStatus}${e.adapter ? ` via ${e.adapter}` : ''}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
    case 'TAGS_CHANGED':
      return describeTags(e.set ?? [], e.removed ?? []);
    default:
      return '';
  }
}

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
  e: Pick<ExecutionSummary, 'durationMs' | 'status' | 'startedAt' | 'createdAt'>,
  now: number,
): number | null {
  if (e.durationMs != null) return e.durationMs;
  if (isTerminal(e.status)) return null;
  return now - Date.parse(e.startedAt ?? e.createdAt);
}
