import { isConnectionFault } from '../db/faults.js';

/**
 * The one error type of Vigil, with the closed code set of API.md §4 (plus INTERNAL for masked faults).
 * Edges turn it into a GraphQL error (`extensions.code`) or a REST body; nothing else decides a status.
 */
export const ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'EXECUTION_NOT_FOUND',
  'NOT_FOUND',
  'INVALID_STATUS_TRANSITION',
  'VALIDATION_FAILED',
  'IDEMPOTENCY_CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** FastAPI's validation item shape, used by REST bodies and GraphQL `extensions.issues` alike. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly issues: ValidationIssue[] | undefined;
  /** Seconds a client should wait before retrying (RATE_LIMITED, SERVICE_UNAVAILABLE). */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: { issues?: ValidationIssue[]; retryAfter?: number } = {}) {
    super(message);
    this.name = 'VigilError';
    this.code = code;
    this.issues = options.issues;
    this.retryAfter = options.retryAfter;
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'EXECUTION_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'INVALID_STATUS_TRANSITION':
      return 400;
    case 'IDEMPOTENCY_CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'VALIDATION_FAILED':
      return 422;
    case 'RATE_LIMITED':
      return 429;
    case 'SERVICE_UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}

export function notFound(id: string): VigilError {
  return new VigilError('EXECUTION_NOT_FOUND', `Execution ${id} not found`);
}

/** Seconds a client is told to wait when the database is unreachable: about what a restart or failover takes. */
const OUTAGE_RETRY_AFTER = 2;

/**
 * What an error means in the contract's codes, when it has a meaning: a VigilError as it is; a fault of the
 * database connection (unreachable, restarting, dropped) as SERVICE_UNAVAILABLE with `Retry-After`, since the same
 * request may work in a moment. Null for anything else (a fault of ours: INTERNAL). Both edges map errors through this.
 */
export function vigilErrorOf(err: unknown): VigilError | null {
  if (err instanceof VigilError) return err;
  if (isConnectionFault(err)) {
    return new VigilError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly', {
      retryAfter: OUTAGE_RETRY_AFTER,
    });
  }
  return null;
}
