import { describe, expect, it } from 'vitest';
import { applyBatch, applyMessage, applyStep, type Counters, type MessageState } from '../../src/domain/batch.js';
import type { VigilError } from '../../src/domain/errors.js';
import type { Execution } from '../../src/domain/types.js';

const now = new Date('2026-03-01T10:00:00.000Z');

function execution(overrides: Partial<Execution> = {}): Execution {
  return {
    id: '01900000-0000-7000-8000-000000000001',
    organizationId: 'default',
    environment: 'test',
    workflowId: 'wf',
    workflowVersion: null,
    status: 'PENDING',
    progress: null,
    inputs: null,
    output: null,
    metadata: null,
    resolvedVariables: null,
    error: null,
    trigger: { type: 'manual' },
    initiatedBy: null,
    steps: [],
    idempotencyKey: null,
    requestHash: null,
    timeoutSeconds: null,
    heartbeatTimeoutSeconds: null,
    deadlineAt: null,
    heartbeatDeadlineAt: null,
    totalMessages: 0,
    completedMessages: 0,
    failedMessages: 0,
    inProgressMessages: 0,
    lastSequence: 0,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    ...overrides,
  };
}

const zero = (): Counters => ({ totalMessages: 0, completedMessages: 0, failedMessages: 0, inProgressMessages: 0 });

describe('message lineage', () => {
  it.each<
    [
      MessageState | undefined,
      'INITIATED' | 'PROCESSING' | 'COMPLETED' | 'FAILED',
      Partial<Counters>,
      MessageState | null,
    ]
  >([
    [undefined, 'INITIATED', { totalMessages: 1, inProgressMessages: 1 }, { status: 'INITIATED', counted: true }],
    [{ status: 'INITIATED', counted: true }, 'INITIATED', {}, null],
    [{ status: 'INITIATED', counted: true }, 'PROCESSING', {}, { status: 'PROCESSING', counted: true }],
    [undefined, 'PROCESSING', {}, { status: 'PROCESSING', counted: false }],
    [
      { status: 'INITIATED', counted: true },
      'COMPLETED',
      { inProgressMessages: -1, completedMessages: 1 },
      { status: 'COMPLETED', counted: true },
    ],
    [
      { status: 'PROCESSING', counted: true },
      'FAILED',
      { inProgressMessages: -1, failedMessages: 1 },
      { status: 'FAILED', counted: true },
    ],
    [undefined, 'COMPLETED', { totalMessages: 1, completedMessages: 1 }, { status: 'COMPLETED', counted: true }],
    [
      { status: 'PROCESSING', counted: false },
      'FAILED',
      { totalMessages: 1, failedMessages: 1 },
      { status: 'FAILED', counted: true },
    ],
    [{ status: 'COMPLETED', counted: true }, 'COMPLETED', {}, null],
    [{ status: 'COMPLETED', counted: true }, 'FAILED', {}, null],
    [{ status: 'FAILED', counted: true }, 'INITIATED', {}, null],
  ])('from %j, %s changes the counters by %j', (prev, status, delta, next) => {
    const counters = zero();
    expect(applyMessage(prev, status, counters)).toEqual(next);
    expect(counters).toEqual({ ...zero(), ...delta });
  });
});

describe('steps', () => {
  it('times a step from RUNNING to its end and keeps first-seen order', () => {
    let steps = applyStep([], { stepId: 'a', status: 'RUNNING', name: 'A' }, new Date('2026-01-01T00:00:00Z'));
    steps = applyStep(steps, { stepId: 'b', status: 'SKIPPED' }, new Date('2026-01-01T00:00:01Z'));
    steps = applyStep(steps, { stepId: 'a', status: 'COMPLETED', outputs: { n: 1 } }, new Date('2026-01-01T00:00:02Z'));
    expect(steps.map((s) => s.id)).toEqual(['a', 'b']);
    expect(steps[0]).toMatchObject({ name: 'A', status: 'COMPLETED', durationMs: 2000, outputs: { n: 1 } });
    expect(steps[1]).toMatchObject({ status: 'SKIPPED', skipped: true, startedAt: null, durationMs: null });
  });
});

describe('the state machine of a batch', () => {
  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as VigilError).code;
    }
    return 'accepted';
  };

  it.each(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const)(
    'absorbs: nothing is recorded on %s',
    (status) => {
      expect(refused(() => applyBatch(execution({ status }), [], new Map(), now))).toBe('INVALID_STATUS_TRANSITION');
    },
  );

  it('resumes an INTERRUPTED execution to RUNNING on any worker report, a heartbeat included', () => {
    const r = applyBatch(execution({ status: 'INTERRUPTED', lastSequence: 3 }), [], new Map(), now);
    expect(r.state.status).toBe('RUNNING');
    expect(r.events).toEqual([
      { sequence: 4, type: 'STATUS_CHANGED', payload: { from: 'INTERRUPTED', to: 'RUNNING' }, occurredAt: now },
    ]);
  });

  it('lets a batch that opens with a status change move an INTERRUPTED execution there directly', () => {
    const r = applyBatch(
      execution({ status: 'INTERRUPTED' }),
      [{ statusChanged: { to: 'COMPLETED' } }],
      new Map(),
      now,
    );
    expect(r.statusChanges).toEqual([{ from: 'INTERRUPTED', to: 'COMPLETED' }]);
    expect(r.state.completedAt).toEqual(now);
  });

  it('sets startedAt on the first RUNNING only', () => {
    const first = new Date('2026-01-01T00:00:00Z');
    const r = applyBatch(
      execution(),
      [
        { statusChanged: { to: 'RUNNING' }, occurredAt: first.toISOString() },
        { statusChanged: { to: 'WAITING_FOR_INPUT' } },
        { statusChanged: { to: 'RUNNING' } },
      ],
      new Map(),
      now,
    );
    expect(r.state.startedAt).toEqual(first);
  });

  it('does not change the execution it was given (the caller writes the result)', () => {
    const e = execution();
    applyBatch(e, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 5 } }], new Map(), now);
    expect(e).toEqual(execution());
  });
});
