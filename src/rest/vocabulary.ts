import type { ExecutionStatus } from '../domain/types.js';

/** The status vocabularies of the seed documents (API.md §3), from the one unified status. */
export const SEED001_STATUS = {
  PENDING: 'running',
  RUNNING: 'running',
  WAITING_FOR_INPUT: 'waiting_for_input',
  INTERRUPTED: 'abandoned',
  COMPLETED: 'completed',
  FAILED: 'errored',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'timed_out',
} as const satisfies Record<ExecutionStatus, string>;

/** Seed 003's PATCH reply, and the `status` events of seed 002's stream (the same /api/v1 service). */
export const SEED003_STATUS = {
  PENDING: 'running',
  RUNNING: 'running',
  WAITING_FOR_INPUT: 'running',
  INTERRUPTED: 'interrupted',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'failed',
} as const satisfies Record<ExecutionStatus, string>;

export const SEED004_STATUS = {
  PENDING: 'pending',
  RUNNING: 'running',
  WAITING_FOR_INPUT: 'running',
  INTERRUPTED: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'failed',
} as const satisfies Record<ExecutionStatus, string>;

/** The distinct words of a vocabulary, for its OpenAPI enum. */
export function wordsOf<T extends Record<string, string>>(vocabulary: T): [T[keyof T], ...T[keyof T][]] {
  return [...new Set(Object.values(vocabulary))] as [T[keyof T], ...T[keyof T][]];
}
