/**
 * A run's output (API.md §8): the `LOG` events that ride the execution's one event sequence, as the dashboard asks
 * for them. Kept beside `documents.ts`, whose event fields it extends.
 */
import { EVENT, type ExecutionEvent } from './documents.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** A `LogEvent`: `stream` is the worker's (`stdout`, `stderr`, …) or `vigil` for Vigil's own notice of truncation. */
export interface LogEvent {
  sequence: number;
  executionId: string;
  type: 'LOG';
  occurredAt: string;
  stream: string;
  level: LogLevel | null;
  text: string;
}

/** The stream on which Vigil itself says that a run's output was cut at its cap (`VIGIL_LOG_LIMIT_BYTES`). */
export const VIGIL_STREAM = 'vigil';

export type AnyEvent = ExecutionEvent | LogEvent;

export const isLog = (e: AnyEvent): e is LogEvent => e.type === 'LOG';

/**
 * Every event of one execution, output included, on one subscription: one cursor (`after`) resumes status,
 * progress and output together, so a re-attach loses no line and repeats none.
 */
export const EVENTS_WITH_LOGS = `subscription EventsWithLogs($id: ID!, $after: Int, $timeout: Float) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout) { ${EVENT}
    ... on LogEvent { stream level text }
  }
}`;
export interface EventsWithLogsResult {
  executionEvents: AnyEvent;
}
