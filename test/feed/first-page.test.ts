import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPrincipal } from '../../src/domain/access.js';
import { createExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

// The hub's row read, held at a gate the test opens: so the first page of events (read beside it) is taken before a
// commit that the row then shows, as happens when the two reads race a commit on their two connections.
const gate = vi.hoisted(() => ({ held: null as Promise<void> | null, reached: () => {} }));
vi.mock('../../src/domain/executions.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/domain/executions.js')>();
  return {
    ...real,
    loadExecutions: async (...args: Parameters<typeof real.loadExecutions>) => {
      const held = gate.held;
      if (held) {
        gate.reached();
        await held;
      }
      return real.loadExecutions(...args);
    },
  };
});

describe.each(DB_KINDS)("a hub's first read on %s", (kind) => {
  let s: TestServer;
  const principal = openPrincipal('test');
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('dispatches events committed between its first page of events and its row, not marks them dispatched', async () => {
    const e = await createExecution(s.domain, principal, { workflowId: 'first-page' });
    await recordEvents(s.domain, principal, e.id, [{ progress: { percentage: 1 } }, { progress: { percentage: 2 } }]);
    let open = () => {};
    const reached = new Promise<void>((r) => {
      gate.reached = r;
    });
    gate.held = new Promise<void>((r) => {
      open = r;
    });
    const seen: number[] = [];
    const detach = s.feed.attach(e.id, { events: (evs) => seen.push(...evs.map((x) => x.sequence)) }, 2);
    await reached; // the row read waits; the first page (nothing after 2) is read
    await new Promise((r) => setTimeout(r, 200));
    // Committed by another instance, as far as this feed knows: it is not told until the end.
    await recordEvents({ ...s.domain, sink: { changed: () => {} } }, principal, e.id, [
      { progress: { percentage: 3 } },
      { progress: { percentage: 4 } },
    ]);
    gate.held = null;
    open();
    s.feed.changed([{ executionId: e.id, sequence: 4 }]);
    await expect.poll(() => seen.join(), { timeout: 5000 }).toBe('3,4');
    detach();
  });
});
