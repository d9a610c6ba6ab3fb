import { EVENT, type ExecutionEvent, type ExecutionStatus } from './documents.js';

/** API.md §8: a run's output, for `vigil logs`, `vigil watch --logs` and the dashboard. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export interface LogLine {
  sequence: number;
  stream: string;
  level: LogLevel | null;
  text: string;
}
export { VIGIL_STREAM } from './log-events.js';

export const LOGS = `query Logs($id: ID!, $after: Int, $first: Int) {
  execution(id: $id) { status lastSequence logTruncated logs(after: $after, first: $first) { sequence stream level text } }
}`;
export interface LogsResult {
  execution: { status: ExecutionStatus; lastSequence: number; logTruncated: boolean; logs: LogLine[] } | null;
}

export const LOG_EVENTS = `subscription LogEvents($id: ID!, $after: Int, $timeout: Float) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout, types: [LOG]) {
    sequence ... on LogEvent { stream level text }
  }
}`;
export interface LogEventsResult {
  executionEvents: LogLine;
}

/** Every kind but LOG: what `vigil watch` follows without --logs (a chatty run does not flood it). */
export const NOT_LOGS = ['STATUS_CHANGED', 'PROGRESS', 'STEP', 'MESSAGE', 'TAGS_CHANGED'] as const;

/** executionEvents with a choice of types, log lines included when asked for. */
export const TYPED_EVENTS = `subscription TypedEvents($id: ID!, $after: Int, $timeout: Float, $types: [ExecutionEventType!]) {
  executionEvents(executionId: $id, after: $after, timeout: $timeout, types: $types) {
    ${EVENT}
    ... on LogEvent { stream level text }
  }
}`;
export type EventOrLog = (ExecutionEvent | (Omit<ExecutionEvent, 'type'> & { type: 'LOG' | 'TAGS_CHANGED' })) &
  Partial<Pick<LogLine, 'stream' | 'level' | 'text'>>;
export interface TypedEventsResult {
  executionEvents: EventOrLog;
}

/** A line's text as the logs endpoint and `vigil logs` print it: as written, a newline added where one is missing. */
export function printable(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
