import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES, type Changes, CURSOR, cursorOf, readUntil, untilLive } from '../support/changes.js';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { subscribe, TRANSPORTS, take } from '../support/subscribe.js';

describe.each(DB_KINDS)('executionChanges on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('replays every execution changed after the cursor once, in its current state, then streams live ones', async () => {
      const before = await cursorOf(s);
      const a = await createExecution(s, { workflowId: `wf-${transport}` });
      const b = await createExecution(s, { workflowId: `wf-${transport}` });
      ok(await record(s, a.id, [{ statusChanged: { to: 'RUNNING' } }]));
      ok(await record(s, a.id, [{ progress: { percentage: 40 } }]));
      const sub = subscribe<Changes>(s.url, transport, CHANGES, {
        after: before,
        filter: { workflowId: `wf-${transport}` },
      });
      const replayed = await readUntil(sub, (seen) => seen.length >= 2);
      // In the order of each one's first change after the cursor, with everything up to the replay's start.
      expect(replayed.map((c) => c.execution.id)).toEqual([a.id, b.id]);
      expect(replayed[0]?.execution).toMatchObject({ status: 'RUNNING', lastSequence: 2 });
      ok(await record(s, b.id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const [live] = await readUntil(sub, (seen) => seen.length >= 1);
      expect(live?.execution).toMatchObject({ id: b.id, status: 'COMPLETED', lastSequence: 1 });
      const cursors = [...replayed, live].map((c) => c?.cursor);
      expect(new Set(cursors).size).toBe(3);
      await sub.close();

      // Resuming after the live change's cursor: nothing repeats; a later change comes.
      const resumed = subscribe<Changes>(s.url, transport, CHANGES, { after: live?.cursor });
      ok(await record(s, a.id, [{ progress: { percentage: 90 } }]));
      const next = await readUntil(resumed, (seen) => seen.length >= 1);
      expect(next.map((c) => [c.execution.id, c.execution.lastSequence])).toEqual([[a.id, 3]]);
      await resumed.close();
    });

    it('without after streams live changes only, matching the filter', async () => {
      const old = await createExecution(s, { workflowId: `live-${transport}` });
      const sub = subscribe<Changes>(s.url, transport, CHANGES, { filter: { workflowId: `live-${transport}` } });
      const { seen, probes } = await untilLive(s, sub, `live-${transport}`);
      expect(seen.some((c) => c.execution.id === old.id)).toBe(false);
      await createExecution(s, { workflowId: 'other' });
      ok(await record(s, old.id, [{ statusChanged: { to: 'RUNNING' } }]));
      const more = await readUntil(sub, (got) => got.some((c) => c.execution.id === old.id));
      expect(more.filter((c) => !probes.has(c.execution.id)).map((c) => c.execution.id)).toEqual([old.id]);
      await sub.close();
    });

    it('refuses a forged cursor and one from another tenant with VALIDATION_FAILED saying what to do', async () => {
      const good = await cursorOf(s);
      const [xid, seq, mac] = good.split('.');
      const forged = [`${xid}.${Number(seq) + 1}.${mac}`, 'not-a-cursor', `${good}x`, ''];
      for (const after of forged) {
        const [first] = await take(subscribe<Changes>(s.url, transport, CHANGES, { after }), 1);
        expect(first?.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
        expect(first?.errors?.[0]?.message).toMatch(/executionChangesCursor/);
      }
      const otherTenant = await cursorOf(s, { 'x-environment': 'live' });
      const [first] = await take(subscribe<Changes>(s.url, transport, CHANGES, { after: otherTenant }), 1);
      expect(first?.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    });
  });

  it('executionChangesCursor needs no argument and is refused without the read scope like every read', async () => {
    const res = await s.gql<{ executionChangesCursor: string }>(CURSOR);
    expect(res.data?.executionChangesCursor).toMatch(/^\d+\.\d+\.[\w-]{22}$/);
    const bad = await s.gql(`subscription { executionChanges(filter: { idPrefix: "zz" }) { cursor } }`);
    expect(codeOf(bad)).toBeDefined();
  });
});
