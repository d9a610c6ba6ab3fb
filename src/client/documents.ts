/**
 * The GraphQL documents the dashboard and the CLI send, and the shapes they get back (schema.graphql).
 * Kept in one place so both users of the public API ask for the same fields.
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
  type: 'STATUS_CHANGED' | 'PROGRESS' | 'STEP' | 'MESSAGE';
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
}

export interface Viewer {
  organizationId: string;
  environment: string;
  scopes: string[];
  authenticated: boolean;
}

export const SUMMARY = `
  id workflowId workflowVersion environment status progress { step percentage }
  createdAt startedAt completedAt updatedAt durationMs lastSequence
  stats { totalMessages completedMessages failedMessages inProgressMessages successRate }
  error { code message step details }`;

export const DETAIL = `${SUMMARY}
  organizationId initiatedBy trigger { type eventId eventType entityType }
  timeoutSeconds heartbeatTimeoutSeconds deadlineAt inputs output metadata
  steps { id name type status startedAt completedAt durationMs skipped error { code message step } }`;

export const EVENT = `
  sequence executionId type occurredAt
  ... on StatusChangedEvent { from to error { code message step } }
  ... on ProgressEvent { step percentage }
  ... on StepEvent { stepId name stepType stepStatus: status error { code message step } }
  ... on MessageEvent { messageId adapter messageStatus: status error { code message step } }`;

export const VIEWER = 'query Viewer { viewer { organizationId environment scopes authenticated } }';

// GET and WAIT (one execution, a wait on it) are the SDK's typed documents now: src/client/sdk/documents.ts; the
// CLI's list, get, cancel, watch and logs are typed the same way in src/cli/documents.ts.

export const UPDATE_STATUS = `mutation UpdateStatus($id: ID!, $status: ExecutionStatusTarget!, $errorInfo: JSON) {
  updateExecutionStatus(id: $id, status: $status, errorInfo: $errorInfo) {
    success previousStatus currentStatus message execution { ${SUMMARY} }
  }
}`;
export interface UpdateStatusResult {
  updateExecutionStatus: {
    success: boolean;
    previousStatus: ExecutionStatus;
    currentStatus: ExecutionStatus;
    message: string;
    execution: ExecutionSummary;
  };
}

/** One line describing an event, the same in the dashboard's log and in `vigil watch`. */
export function describeEvent(e: ExecutionEvent): string {
  switch (e.type) {
    case 'STATUS_CHANGED':
      return `${e.from} → ${e.to}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
    case 'PROGRESS':
      return `${formatPercent(e.percentage ?? 0)}${e.step ? ` ${e.step}` : ''}`;
    case 'STEP':
      return `step ${e.name ?? e.stepId} ${e.stepStatus}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
    case 'MESSAGE':
      return `message ${e.messageId} ${e.messageStatus}${e.adapter ? ` via ${e.adapter}` : ''}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`;
  }
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
export function elapsedMs(e: ExecutionSummary, now: number): number | null {
  if (e.durationMs != null) return e.durationMs;
  if (isTerminal(e.status)) return null;
  return now - Date.parse(e.startedAt ?? e.createdAt);
}
