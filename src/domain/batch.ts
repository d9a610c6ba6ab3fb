import { VigilError } from './errors.js';
import { DEFAULT_LOG_LIMIT_BYTES, type ExecutionEventInput } from './inputs.js';
import { applyLog, type LogState } from './logs.js';
import { changeTags, type TagMap } from './tags.js';
import {
  type EventType,
  type Execution,
  type ExecutionErrorInfo,
  type ExecutionStatus,
  isTerminal,
  type MessageStatus,
  type Progress,
  type Step,
  stepsOf,
  WORKER_TARGETS,
} from './types.js';

/** The last known status of one message and whether it was counted in totalMessages. */
export interface MessageState {
  status: MessageStatus;
  counted: boolean;
}

export interface Counters {
  totalMessages: number;
  completedMessages: number;
  failedMessages: number;
  inProgressMessages: number;
}

export interface NewEvent {
  sequence: number;
  type: EventType;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/** The execution's mutable fields while a batch is applied to it. */
export interface BatchState extends Counters, LogState {
  status: ExecutionStatus;
  progress: Progress | null;
  steps: Step[];
  output: unknown;
  error: ExecutionErrorInfo | null;
  startedAt: Date | null;
  completedAt: Date | null;
  lastSequence: number;
  tags: TagMap;
}

export interface BatchResult {
  state: BatchState;
  events: NewEvent[];
  /** Messages whose state changed, to upsert. */
  messages: Map<string, MessageState>;
  /** Each status change of the batch, in order. */
  statusChanges: { from: ExecutionStatus; to: ExecutionStatus }[];
}

export const MAX_STEPS = 1000;

function refuse(message: string): never {
  throw new VigilError('INVALID_STATUS_TRANSITION', message);
}

/**
 * Applies a worker's batch to an execution, all or nothing (API.md §2): the state machine of §1, step traces,
 * progress, the message counters, and log lines up to `logLimit` bytes per execution (§8). Pure: the caller holds the row lock and writes the result.
 */
export function applyBatch(
  execution: Execution,
  inputs: readonly ExecutionEventInput[],
  known: ReadonlyMap<string, MessageState>,
  now: Date,
  logLimit = DEFAULT_LOG_LIMIT_BYTES,
): BatchResult {
  const state: BatchState = {
    status: execution.status,
    progress: execution.progress as Progress | null,
    steps: stepsOf(execution),
    output: execution.output,
    error: execution.error as ExecutionErrorInfo | null,
    startedAt: execution.startedAt,
    completedAt: execution.completedAt,
    lastSequence: execution.lastSequence,
    tags: (execution.tags ?? {}) as TagMap,
    totalMessages: execution.totalMessages,
    completedMessages: execution.completedMessages,
    failedMessages: execution.failedMessages,
    inProgressMessages: execution.inProgressMessages,
    logBytes: execution.logBytes,
    logTruncated: execution.logTruncated,
  };
  const result: BatchResult = { state, events: [], messages: new Map(), statusChanges: [] };
  if (isTerminal(state.status)) refuse(`Execution is ${state.status}; nothing more can be recorded`);

  const push = (type: EventType, payload: Record<string, unknown>, occurredAt: Date) => {
    state.lastSequence += 1;
    result.events.push({ sequence: state.lastSequence, type, payload, occurredAt });
  };
  const changeStatus = (to: ExecutionStatus, occurredAt: Date, extra: Record<string, unknown> = {}) => {
    const from = state.status;
    state.status = to;
    // The execution's times come from the report, clamped into its lifetime so far (API.md §1)
    if (to === 'RUNNING' && !state.startedAt) state.startedAt = clampTime(occurredAt, execution.createdAt, now);
    if (isTerminal(to)) {
      const completedAt = completionTime(execution.createdAt, state.startedAt, occurredAt, now);
      state.completedAt = completedAt;
      // Its open steps end with it, each with its event, before the terminal event (which stays the last).
      const closing = closeOpenSteps(state.steps, completedAt);
      state.steps = closing.steps;
      for (const payload of closing.events) push('STEP', payload, completedAt);
    }
    result.statusChanges.push({ from, to });
    push('STATUS_CHANGED', { from, to, ...extra }, occurredAt);
  };

  // A report from a worker after the heartbeat was lost resumes the execution (API.md §1), unless the batch
  // itself opens with the status it moves to.
  if (state.status === 'INTERRUPTED' && !inputs[0]?.statusChanged) changeStatus('RUNNING', now);

  const messages = new Map(known);
  inputs.forEach((input, index) => {
    if (isTerminal(state.status)) {
      refuse(`Event ${index} follows the terminal status ${state.status} in the same batch`);
    }
    const at = input.occurredAt ? new Date(input.occurredAt) : now;
    if (input.statusChanged) {
      const { to, error, output } = input.statusChanged;
      if (!WORKER_TARGETS.includes(to)) refuse(`A worker cannot move an execution to ${to}`);
      if (error) state.error = error;
      if (output !== undefined) state.output = output;
      if (to === state.status) return; // not a change: no event
      changeStatus(to, at, error ? { error } : {});
    } else if (input.progress) {
      state.progress = { step: input.progress.step ?? null, percentage: input.progress.percentage };
      push('PROGRESS', { ...state.progress }, at);
    } else if (input.step) {
      state.steps = applyStep(state.steps, input.step, at);
      push('STEP', stripNullish(input.step), at);
    } else if (input.message) {
      const { messageId, status } = input.message;
      const next = applyMessage(messages.get(messageId), status, state);
      if (next) {
        messages.set(messageId, next);
        result.messages.set(messageId, next);
      }
      push('MESSAGE', stripNullish(input.message), at);
    } else if (input.tags) {
      const set = (input.tags.set ?? []).map(({ key, value }) => ({ key, value }));
      const removed = [...(input.tags.remove ?? [])];
      state.tags = changeTags(state.tags, { set, remove: removed }, ['events', index, 'tags']);
      push('TAGS_CHANGED', { set, removed }, at); // what was given, even when it changes nothing (API.md §8)
    } else if (input.log) {
      const payload = applyLog(state, input.log, logLimit); // null: dropped past the cap (the notice went once)
      if (payload) push('LOG', payload, at);
    }
  });
  return result;
}

/**
 * Message lineage (API.md §2): INITIATED counts one in total and in progress; COMPLETED/FAILED move it out of in
 * progress (or count it in total when it was never initiated); PROCESSING and repeated reports change nothing.
 * Mutates `counters`; returns the message's new state, or null when nothing changed.
 */
export function applyMessage(
  prev: MessageState | undefined,
  status: MessageStatus,
  counters: Counters,
): MessageState | null {
  if (prev && (prev.status === 'COMPLETED' || prev.status === 'FAILED')) return null;
  switch (status) {
    case 'INITIATED':
      if (prev?.counted) return null;
      counters.totalMessages += 1;
      counters.inProgressMessages += 1;
      return { status, counted: true };
    case 'PROCESSING':
      if (prev?.status === 'PROCESSING') return null;
      return { status, counted: prev?.counted ?? false };
    case 'COMPLETED':
    case 'FAILED':
      if (prev?.counted) counters.inProgressMessages -= 1;
      else counters.totalMessages += 1;
      if (status === 'COMPLETED') counters.completedMessages += 1;
      else counters.failedMessages += 1;
      return { status, counted: true };
  }
}

/** `at` moved into [lower, upper]; when the bounds cross (two instances' clocks), the lower one wins. */
export function clampTime(at: Date, lower: Date, upper: Date): Date {
  const t = Math.max(lower.getTime(), Math.min(at.getTime(), upper.getTime()));
  return t === at.getTime() ? at : new Date(t);
}

/**
 * When an execution that ends at `at` (a worker's occurredAt, or the server's time) completed: never before it
 * existed or started, never after `now`, the server's time at commit (API.md §1 "Time and open steps").
 */
export function completionTime(createdAt: Date, startedAt: Date | null, at: Date, now: Date): Date {
  return clampTime(at, startedAt && startedAt > createdAt ? startedAt : createdAt, now);
}

/** The step statuses an ending execution closes (as CANCELLED). */
export const OPEN_STEP_STATUSES = ['PENDING', 'RUNNING'] as const;
const STEP_OPEN = new Set<string>(OPEN_STEP_STATUSES);
export const isOpenStep = (step: Step) => STEP_OPEN.has(step.status);

/**
 * The steps of an execution that ends at `completedAt`: those still PENDING or RUNNING become CANCELLED then, each
 * with the payload of its STEP event (API.md §1). Every other step is kept as it is.
 */
export function closeOpenSteps(
  steps: readonly Step[],
  completedAt: Date,
): { steps: Step[]; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const iso = completedAt.toISOString();
  const next = steps.map((s) => {
    if (!isOpenStep(s)) return s;
    events.push(stripNullish({ stepId: s.id, name: s.name, type: s.type, status: 'CANCELLED' }));
    return {
      ...s,
      status: 'CANCELLED' as const,
      completedAt: iso,
      durationMs: s.startedAt ? Math.max(0, completedAt.getTime() - Date.parse(s.startedAt)) : null,
    };
  });
  return { steps: next, events };
}

type StepInput = NonNullable<ExecutionEventInput['step']>;

const STEP_DONE = new Set(['COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED']);

/** Merges one step report into the step list, keeping first-seen order and timing the step. */
export function applyStep(steps: readonly Step[], input: StepInput, at: Date): Step[] {
  const index = steps.findIndex((s) => s.id === input.stepId);
  if (index < 0 && steps.length >= MAX_STEPS) {
    throw new VigilError('VALIDATION_FAILED', `An execution has at most ${MAX_STEPS} steps`, {
      issues: [{ loc: ['events', 'step', 'stepId'], msg: `at most ${MAX_STEPS} steps`, type: 'too_big' }],
    });
  }
  const base: Step = steps[index] ?? {
    id: input.stepId,
    name: null,
    type: null,
    status: 'PENDING',
    startedAt: null,
    completedAt: null,
    durationMs: null,
    error: null,
    outputs: null,
    artifacts: null,
    rowCounts: null,
    columns: null,
    skipped: false,
  };
  const iso = at.toISOString();
  const startedAt = base.startedAt ?? (input.status === 'RUNNING' ? iso : null);
  const completedAt = STEP_DONE.has(input.status) ? (base.completedAt ?? iso) : null;
  const step: Step = {
    id: input.stepId,
    name: input.name ?? base.name,
    type: input.type ?? base.type,
    status: input.status,
    startedAt,
    completedAt,
    durationMs: startedAt && completedAt ? Math.max(0, Date.parse(completedAt) - Date.parse(startedAt)) : null,
    error: input.error ?? base.error,
    outputs: input.outputs ?? base.outputs,
    artifacts: input.artifacts ?? base.artifacts,
    rowCounts: input.rowCounts ?? base.rowCounts,
    columns: input.columns ?? base.columns,
    skipped: input.skipped ?? (input.status === 'SKIPPED' || base.skipped),
  };
  const next = [...steps];
  if (index < 0) next.push(step);
  else next[index] = step;
  return next;
}

/** The members that are set, in their order: one object per event stored, no arrays of pairs in between. */
function stripNullish<T extends object>(value: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined && v !== null) out[key] = v;
  }
  return out;
}
