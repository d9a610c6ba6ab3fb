import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPrincipal } from '../../src/domain/access.js';
import { createExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { updateStatusByClient } from '../../src/domain/transitions.js';
import type { Execution } from '../../src/domain/types.js';
import { DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';

describe.each(DB_KINDS)('the change feed on %s', (kind) => {
  let s: TestServer;
  const principal = openPrincipal('test');
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('catches up a listener that attaches behind what its hub already dispatched', async () => {
    const e = await createExecution(s.domain, principal, { workflowId: 'hub' });
    const first: Execution[] = [];
    const detachFirst = s.feed.attach(e.id, { execution: (x) => first.push(x) }, 0);
    await updateStatusByClient(s.domain, principal, e.id, 'CANCELLED');
    await expect.poll(() => first.at(-1)?.status, { timeout: 5000 }).toBe('CANCELLED');

    // A waiter that read the execution before the cancel, and attaches only now.
    const late: Execution[] = [];
    const detachLate = s.feed.attach(e.id, { execution: (x) => late.push(x) }, 0);
    await expect.poll(() => late.at(-1)?.status, { timeout: 1000 }).toBe('CANCELLED');
    detachFirst();
    detachLate();
  });

  it('reads an execution once per burst however many listeners it has, and not at all for its own commits', async () => {
    const e = await createExecution(s.domain, principal, { workflowId: 'hub' });
    const seen = Array.from({ length: 50 }, () => [] as number[]);
    const detach = seen.map((list) =>
      s.feed.attach(e.id, { events: (evs) => list.push(...evs.map((x) => x.sequence)) }, 0),
    );
    await new Promise((r) => setTimeout(r, 100));
    const before = s.feed.stats.reads;
    // A commit the feed is told of by id only (as another instance's NOTIFY tells it): one read for all 50.
    await recordEvents({ ...s.domain, sink: { changed: () => {} } }, principal, e.id, [
      { progress: { percentage: 1 } },
    ]);
    s.feed.changed([{ executionId: e.id, sequence: 1 }]);
    await expect.poll(() => seen.every((l) => l.includes(1)), { timeout: 5000 }).toBe(true);
    expect(s.feed.stats.reads - before).toBe(1);
    // A commit of this process comes with what it wrote: no read at all.
    await recordEvents(s.domain, principal, e.id, [{ progress: { percentage: 2 } }]);
    await expect.poll(() => seen.every((l) => l.includes(2)), { timeout: 5000 }).toBe(true);
    expect(s.feed.stats.reads - before).toBe(1);
    expect(seen.every((l) => l.join() === '1,2')).toBe(true);
    for (const d of detach) d();
    expect(s.feed.openListeners.executions).toBe(0);
  });
});
