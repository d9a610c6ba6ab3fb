import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPrincipal } from '../../src/domain/access.js';
import { createExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { updateStatusByClient } from '../../src/domain/transitions.js';
import type { Execution } from '../../src/domain/types.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

// The hub's first page of events, held at a gate the test opens: so the row (read beside it) is taken before a commit
// that the page then shows, as happens when the two reads race a commit on their two connections. CI saw it once on
// two instances: REST waits held on one never woke when the other cancelled the execution (fleet.test.ts).
const gate = vi.hoisted(() => ({ held: null as Promise<void> | null, reached: () => {} }));
vi.mock('../../src/domain/events.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/domain/events.js')>();
  return {
    ...real,
    readEvents: async (...args: Parameters<typeof real.readEvents>) => {
      const held = gate.held;
      if (held) {
        gate.reached();
        await held;
      }
      return real.readEvents(...args);
    },
  };
});

describe.each(DB_KINDS)('a hub whose page of events is newer than its row on %s', (kind) => {
  let s: TestServer;
  const principal = openPrincipal('test');
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('reads the row again, so its waiters see the end the events showed, and a later notice of it is not needed', async () => {
    const e = await createExecution(s.domain, principal, { workflowId: 'row-behind' });
    await recordEvents(s.domain, principal, e.id, [{ progress: { percentage: 10 } }]);
    let open = () => {};
    const reached = new Promise<void>((r) => {
      gate.reached = r;
    });
    gate.held = new Promise<void>((r) => {
      open = r;
    });
    const events: number[] = [];
    const rows: Execution[] = [];
    const detach = s.feed.attach(
      e.id,
      { events: (evs) => events.push(...evs.map((x) => x.sequence)), execution: (row) => rows.push(row) },
      0,
    );
    await reached; // the page waits; the row (at sequence 1) is read
    await new Promise((r) => setTimeout(r, 200));
    // Committed by another instance, as far as this feed knows.
    await updateStatusByClient({ ...s.domain, sink: { changed: () => {} } }, principal, e.id, 'CANCELLED');
    gate.held = null;
    open();
    await expect.poll(() => events.join(), { timeout: 5000 }).toBe('1,2');
    // Its notice comes after the hub read both events: it must not be what the waiters depend on.
    s.feed.changed([{ executionId: e.id, sequence: 2 }]);
    await expect.poll(() => rows.at(-1)?.status, { timeout: 5000 }).toBe('CANCELLED');
    detach();
  });
});
