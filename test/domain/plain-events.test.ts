import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../../src/domain/errors.js';
import { eventBatchInput, parse } from '../../src/domain/inputs.js';
import { parseEvents } from '../../src/domain/plain-events.js';

/** What a parser makes of a batch: its events, or the error it throws (code, message, issues). */
function outcome(parser: (raw: unknown) => unknown, raw: unknown): unknown {
  try {
    return { events: parser(raw) };
  } catch (err) {
    return { error: err instanceof VigilError ? [err.code, err.message, err.issues] : String(err) };
  }
}
const byZod = (raw: unknown) => outcome((r) => parse(eventBatchInput, r, ['events']), raw);
const byParseEvents = (raw: unknown) => outcome(parseEvents, raw);

const long = (n: number) => 'm'.repeat(n);

describe('parseEvents: the plain events without zod, everything else through it', () => {
  it.each([
    ['a message', [{ message: { messageId: 'm1', status: 'COMPLETED' } }]],
    ['a message with its adapter', [{ message: { messageId: 'm1', adapter: 'sqs', status: 'FAILED' } }]],
    [
      'a message with null members',
      [{ message: { messageId: 'm1', adapter: null, status: 'INITIATED', error: null } }],
    ],
    [
      'a message beside null kinds',
      [{ message: { messageId: 'm1', status: 'PROCESSING' }, progress: null, log: null, occurredAt: null }],
    ],
    ['a progress', [{ progress: { percentage: 0 } }, { progress: { percentage: 100, step: 'load' } }]],
    ['a message id of 200 characters', [{ message: { messageId: long(200), status: 'COMPLETED' } }]],
    ['an empty batch', []],
  ])('takes %s as it came, as zod would have it', (_, raw) => {
    expect(parseEvents(raw)).toBe(raw);
    expect(byParseEvents(raw)).toEqual(byZod(raw));
  });

  it.each([
    ['an empty message id', [{ message: { messageId: '', status: 'COMPLETED' } }]],
    ['a message id of 201 characters', [{ message: { messageId: long(201), status: 'COMPLETED' } }]],
    ['a NUL in the message id', [{ message: { messageId: 'a\u0000b', status: 'COMPLETED' } }]],
    ['a lone surrogate in the adapter', [{ message: { messageId: 'm', adapter: '\ud800', status: 'COMPLETED' } }]],
    ['an unknown message status', [{ message: { messageId: 'm', status: 'DONE' } }]],
    ['a message id that is a number', [{ message: { messageId: 7, status: 'COMPLETED' } }]],
    ['an unknown member of a message', [{ message: { messageId: 'm', status: 'COMPLETED', payload: {} } }]],
    ['an unknown member of an event', [{ message: { messageId: 'm', status: 'COMPLETED' }, extra: 1 }]],
    ['two kinds in one event', [{ message: { messageId: 'm', status: 'COMPLETED' }, progress: { percentage: 1 } }]],
    ['no kind', [{ progress: null }]],
    ['a percentage over 100', [{ progress: { percentage: 100.5 } }]],
    ['a negative percentage', [{ progress: { percentage: -1 } }]],
    ['a percentage as text', [{ progress: { percentage: '5' } }]],
    ['a step of 201 characters', [{ progress: { percentage: 5, step: long(201) } }]],
    ['an event that is an array', [[]]],
    ['an event that is null', [null]],
    ['a batch that is not an array', { message: { messageId: 'm', status: 'COMPLETED' } }],
    ['a batch over the limit', Array.from({ length: 1001 }, () => ({ progress: { percentage: 1 } }))],
    [
      'an event with a member of its prototype',
      [Object.assign(Object.create({ inherited: true }), { progress: { percentage: 1 } })],
    ],
    ['a bad event after a plain one', [{ progress: { percentage: 1 } }, { progress: { percentage: 101 } }]],
  ])('refuses %s with zod’s own error', (_, raw) => {
    const zod = byZod(raw);
    expect(zod).toHaveProperty('error');
    expect(byParseEvents(raw)).toEqual(zod);
  });

  it.each([
    [
      'a message with its error',
      [{ message: { messageId: 'm', status: 'FAILED', error: { code: 'E', message: 'boom' } } }],
    ],
    [
      'a message with its own time',
      [{ message: { messageId: 'm', status: 'COMPLETED' }, occurredAt: '2026-01-01T00:00:00Z' }],
    ],
    ['a status change', [{ statusChanged: { to: 'COMPLETED' } }]],
    ['a plain event beside a log line', [{ progress: { percentage: 1 } }, { log: { text: 'hi' } }]],
  ])('leaves %s to zod, with the same answer', (_, raw) => {
    const zod = byZod(raw);
    expect(zod).toHaveProperty('events');
    expect(byParseEvents(raw)).toEqual(zod);
  });

  it('agrees with zod on events made near the plain shapes', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.constantFrom('', 'm', long(199), long(200), long(201), 'a\u0000', '\udc00x', '😀'),
      fc.integer(),
      fc.constant(null),
    );
    const member = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const message = fc.record(
      {
        messageId: member(text),
        adapter: member(text),
        status: member(fc.constantFrom('INITIATED', 'PROCESSING', 'COMPLETED', 'FAILED', 'DONE', null)),
        error: member(fc.constantFrom(null, { code: 'E', message: 'x' })),
        other: member(fc.constant(1)),
      },
      { requiredKeys: [] },
    );
    const progress = fc.record(
      {
        percentage: member(fc.oneof(fc.double(), fc.constantFrom(0, 100, -0, 100.0001, '1', null))),
        step: member(text),
      },
      { requiredKeys: [] },
    );
    const event = fc.record(
      {
        message: member(fc.oneof(message, fc.constant(null))),
        progress: member(fc.oneof(progress, fc.constant(null))),
        occurredAt: member(fc.constantFrom(null, '2026-01-01T00:00:00Z')),
        log: member(fc.constant(null)),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 4 }), (raw) => {
        expect(byParseEvents(raw)).toEqual(byZod(raw));
      }),
      { numRuns: 3000 },
    );
  });
});
