import { describe, expect, it } from 'vitest';
import { within } from '../../src/within.js';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('within(promise, ms, otherwise): a bounded wait', () => {
  it("answers the promise's value when it settles in time", async () => {
    expect(await within(after(5, 'db up'), 200, 'late')).toBe('db up');
  });

  it('answers `otherwise` once `ms` have passed, without waiting for the promise', async () => {
    const started = Date.now();
    expect(await within(new Promise<string>(() => {}), 50, 'late')).toBe('late');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(1000);
  });

  it('answers `otherwise` when the promise rejects, and the rejection is handled', async () => {
    expect(await within(Promise.reject(new Error('connection closed')), 200, false)).toBe(false);
  });
});
