import { type ExecutionRow, eventType, executionStatus, messageStatus } from '../db/schema.js';

/** The database enums are the one list of each vocabulary. */
export const EXECUTION_STATUSES = executionStatus.enumValues;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];
export const NON_TERMINAL_STATUSES: readonly ExecutionStatus[] = [
  'PENDING',
  'RUNNING',
  'WAITING_FOR_INPUT',
  'INTERRUPTED',
];
/** Statuses a worker may report (API.md §1): INTERRUPTED and PENDING are the server's alone. */
export const WORKER_TARGETS: readonly ExecutionStatus[] = [
  'RUNNING',
  'WAITING_FOR_INPUT',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
];
export const CLIENT_TARGETS = ['CANCELLED', 'FAILED', 'COMPLETED'] as const;
export type ClientTarget = (typeof CLIENT_TARGETS)[number];

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const EVENT_TYPES = eventType.enumValues;
export type EventType = (typeof EVENT_TYPES)[number];
/** CANCELLED: the server's, for a step still open when its execution ended (API.md §1 "Time and open steps"). */
export const STEP_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const MESSAGE_STATUSES = messageStatus.enumValues;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type Environment = 'test' | 'live';

export interface ExecutionErrorInfo {
  code: string;
  message: string;
  step?: string | null;
  details?: unknown;
}
export interface Progress {
  step: string | null;
  percentage: number;
}
export interface Trigger {
  type: string;
  eventId?: string | null;
  eventType?: string | null;
  entityType?: string | null;
  entityId?: string | null;
}
export interface Step {
  id: string;
  name: string | null;
  type: string | null;
  status: StepStatus;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: ExecutionErrorInfo | null;
  outputs: unknown;
  artifacts: unknown;
  rowCounts: unknown;
  columns: unknown;
  skipped: boolean;
}

/** An execution as stored; JSON columns are typed through the accessors below. */
export type Execution = ExecutionRow & { status: ExecutionStatus };

export interface ExecutionStats {
  totalMessages: number;
  completedMessages: number;
  failedMessages: number;
  inProgressMessages: number;
  /** completed / (completed + failed), 0 when none (API.md §1). */
  successRate: number;
}

export function statsOf(e: Execution): ExecutionStats {
  const done = e.completedMessages + e.failedMessages;
  return {
    totalMessages: e.totalMessages,
    completedMessages: e.completedMessages,
    failedMessages: e.failedMessages,
    inProgressMessages: e.inProgressMessages,
    successRate: done === 0 ? 0 : e.completedMessages / done,
  };
}

/**
 * completedAt − (startedAt ?? createdAt), null while running. Times are clamped when written (batch.ts), so this is
 * never negative; rows written before that rule are read as if they had been.
 */
export function durationMsOf(e: Execution): number | null {
  if (!e.completedAt) return null;
  const start = Math.max(e.startedAt?.getTime() ?? 0, e.createdAt.getTime());
  return Math.max(0, e.completedAt.getTime() - start);
}

export const progressOf = (e: Execution) => e.progress as Progress | null;
export const errorOf = (e: Execution) => e.error as ExecutionErrorInfo | null;
export const triggerOf = (e: Execution) => e.trigger as Trigger;
export const stepsOf = (e: Execution) => e.steps as Step[];

/** One stored event, with its payload typed by kind. */
export interface ExecutionEvent {
  executionId: string;
  sequence: number;
  type: EventType;
  payload: Record<string, unknown>;
  occurredAt: Date;
  recordedAt: Date;
}

/** What a committed write tells the change feed: this execution now has events up to `sequence`. */
export interface Change {
  executionId: string;
  sequence: number;
  /**
   * What the writer committed, when it has it: the execution row at `sequence` and every event it appended (those
   * after the row's previous lastSequence, in order). The feed hands them to this process's listeners without reading
   * them back; other instances are told the id and sequence only.
   */
  committed?: { execution: Execution; events: readonly ExecutionEvent[] };
}

/** Receives changes after their transaction committed (never inside it). */
export interface ChangeSink {
  changed(changes: readonly Change[]): void;
}
