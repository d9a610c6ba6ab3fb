import { describe, expect, it } from 'vitest';
import {
  applyBatch,
  applyMessage,
  applyStep,
  type Counters,
  clampTime,
  closeOpenSteps,
  completionTime,
  type MessageState,
} from '../../src/domain/batch.js';
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
    logBytes: 0,
    logTruncated: false,
    completedMessages: 0,
    failedMessages: 0,
    inProgressMessages: 0,
    lastSequence: 0,
    tags: {},
    parentExecutionId: null,
    rootExecutionId: '01900000-0000-7000-8000-000000000001',
    depth: 1,
    attempt: 1,
    retryOf: null,
    pinned: false,
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
      execution({ createdAt: new Date('2025-12-31T00:00:00Z') }),
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

describe('time (API.md §1 "Time and open steps")', () => {
  const created = new Date('2026-03-01T09:00:00.000Z');
  const at = (offsetSeconds: number) => new Date(created.getTime() + offsetSeconds * 1000).toISOString();
  const run = (inputs: Parameters<typeof applyBatch>[1], e: Partial<Execution> = {}) =>
    applyBatch(execution({ createdAt: created, ...e }), inputs, new Map(), now);

  it('takes startedAt and completedAt from the occurredAt of the events that caused them', () => {
    const r = run([
      { statusChanged: { to: 'RUNNING' }, occurredAt: at(10) },
      { statusChanged: { to: 'COMPLETED' }, occurredAt: at(40) },
    ]);
    expect(r.state.startedAt?.toISOString()).toBe(at(10));
    expect(r.state.completedAt?.toISOString()).toBe(at(40));
  });

  it("uses the server's time when the worker sent none", () => {
    const r = run([{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'FAILED' } }]);
    expect(r.state.startedAt).toEqual(now);
    expect(r.state.completedAt).toEqual(now);
  });

  it('never starts before the execution existed, nor ends after the server time', () => {
    const r = run([
      { statusChanged: { to: 'RUNNING' }, occurredAt: at(-3600) },
      { statusChanged: { to: 'COMPLETED' }, occurredAt: '2030-01-01T00:00:00Z' },
    ]);
    expect(r.state.startedAt).toEqual(created);
    expect(r.state.completedAt).toEqual(now);
  });

  it('never ends before it started (durationMs is never negative)', () => {
    const r = run([{ statusChanged: { to: 'COMPLETED' }, occurredAt: at(5) }], {
      status: 'RUNNING',
      startedAt: new Date(at(20)),
    });
    expect(r.state.completedAt?.toISOString()).toBe(at(20));
  });

  it('keeps the reported occurredAt on the events themselves', () => {
    const r = run([{ statusChanged: { to: 'RUNNING' }, occurredAt: at(-60) }]);
    expect(r.events[0]?.occurredAt.toISOString()).toBe(at(-60));
  });

  it("keeps a step's own times as the worker reported them (its duration is the worker's measure)", () => {
    const r = run([
      { step: { stepId: 'a', status: 'RUNNING' }, occurredAt: at(-60) },
      { step: { stepId: 'a', status: 'COMPLETED' }, occurredAt: at(-30) },
    ]);
    expect(r.state.steps[0]).toMatchObject({ startedAt: at(-60), completedAt: at(-30), durationMs: 30_000 });
  });

  it('lets the lower bound win when the bounds cross (clocks of two instances)', () => {
    const lower = new Date('2026-01-01T00:00:01Z');
    const upper = new Date('2026-01-01T00:00:00Z');
    expect(clampTime(new Date('2025-01-01T00:00:00Z'), lower, upper)).toEqual(lower);
    expect(completionTime(lower, null, upper, upper)).toEqual(lower);
  });
});

describe('open steps when the execution ends', () => {
  const created = new Date('2026-03-01T09:00:00.000Z');
  const steps = () =>
    (
      [
        ['done', 'COMPLETED'],
        ['running', 'RUNNING'],
        ['skipped', 'SKIPPED'],
        ['queued', 'PENDING'],
      ] as const
    ).reduce(
      (acc, [stepId, status], i) =>
        applyStep(acc, { stepId, status, name: stepId.toUpperCase() }, new Date(created.getTime() + i * 1000)),
      [] as ReturnType<typeof applyStep>,
    );

  it.each(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const)(
    'closes PENDING and RUNNING steps as CANCELLED on %s, their events before the terminal one',
    (to) => {
      const r = applyBatch(
        execution({ createdAt: created, status: 'RUNNING', startedAt: created, steps: steps(), lastSequence: 7 }),
        [{ statusChanged: { to }, occurredAt: '2026-03-01T09:00:30.000Z' }],
        new Map(),
        now,
      );
      const end = '2026-03-01T09:00:30.000Z';
      expect(r.state.steps.map((s) => [s.id, s.status])).toEqual([
        ['done', 'COMPLETED'],
        ['running', 'CANCELLED'],
        ['skipped', 'SKIPPED'],
        ['queued', 'CANCELLED'],
      ]);
      expect(r.state.steps[1]).toMatchObject({ completedAt: end, durationMs: 29_000 });
      expect(r.state.steps[3]).toMatchObject({ completedAt: end, durationMs: null, startedAt: null });
      expect(r.state.steps[0]).toEqual(steps()[0]);
      expect(r.events.map((e) => [e.sequence, e.type, e.payload.stepId ?? e.payload.to])).toEqual([
        [8, 'STEP', 'running'],
        [9, 'STEP', 'queued'],
        [10, 'STATUS_CHANGED', to],
      ]);
      expect(r.events[0]).toMatchObject({
        payload: { stepId: 'running', name: 'RUNNING', status: 'CANCELLED' },
        occurredAt: new Date(end),
      });
      expect(r.state.lastSequence).toBe(10);
    },
  );

  it('leaves the steps alone while the execution goes on', () => {
    const r = applyBatch(
      execution({ createdAt: created, status: 'RUNNING', steps: steps() }),
      [{ statusChanged: { to: 'WAITING_FOR_INPUT' } }],
      new Map(),
      now,
    );
    expect(r.state.steps).toEqual(steps());
    expect(r.events.map((e) => e.type)).toEqual(['STATUS_CHANGED']);
  });

  it('closes nothing when every step has finished', () => {
    const done = applyStep([], { stepId: 'a', status: 'COMPLETED' }, created);
    expect(closeOpenSteps(done, now)).toEqual({ steps: done, events: [] });
  });
});
