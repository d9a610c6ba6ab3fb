import { describe, expect, it } from 'vitest';
import { Deadlines, type Expiring } from '../../src/feed/deadlines.js';

/** An item that records when it expired, relative to when it was filed. */
function item(log: string[], name: string): Expiring {
  return { expire: () => log.push(name) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the shared wait deadlines', () => {
  it('expires each item once at its own deadline, in deadline order, never before it', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const started = performance.now();
    const at: Record<string, number> = {};
    const timed = (name: string): Expiring => ({
      expire: () => {
        log.push(name);
        at[name] = performance.now() - started;
      },
    });
    d.add(timed('late'), 120);
    d.add(timed('early'), 30);
    d.add(timed('same-a'), 60);
    d.add(timed('same-b'), 60);
    await sleep(250);
    expect(log).toEqual(['early', 'same-a', 'same-b', 'late']);
    expect(at.early).toBeGreaterThanOrEqual(29);
    expect(at['same-a']).toBeGreaterThanOrEqual(59);
    expect(at.late).toBeGreaterThanOrEqual(119);
  });

  it('does not expire an item taken off, alone in its tick or beside others', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const alone = item(log, 'alone');
    const shared = item(log, 'shared');
    d.remove(alone, d.add(alone, 20));
    const tick = d.add(shared, 40);
    d.add(item(log, 'kept'), 40);
    d.remove(shared, tick);
    await sleep(120);
    expect(log).toEqual(['kept']);
  });

  it('sets its timer for an earlier deadline filed after a later one, and after the earliest is taken off', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const first = item(log, 'first');
    const hour = item(log, 'hour');
    const hourTick = d.add(hour, 3_600_000);
    const tick = d.add(first, 20);
    d.add(item(log, 'second'), 60);
    d.remove(first, tick);
    await sleep(150);
    expect(log).toEqual(['second']);
    d.remove(hour, hourTick); // the last one off clears the timer
  });
});
