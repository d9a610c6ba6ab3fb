import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES, type Changes, readUntil, untilLive } from '../support/changes.js';
import { createExecution, DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { subscribe } from '../support/subscribe.js';

async function counters(s: TestServer): Promise<{ executed: number; written: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { executed: read('vigil_sse_items_executed_total'), written: read('vigil_sse_frames_written_total') };
}

/** More changes in one batch than a group keeps frames by key (128). */
const MANY = 300;

describe.each(DB_KINDS)('executionChanges to identical subscribers on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('executes each change of a large batch once for the group and delivers all of it to every member', async () => {
    const filter = { workflowId: 'fan-batch' };
    const subs = Array.from({ length: 3 }, () => subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { filter }));
    const probes = new Set<string>();
    for (const sub of subs) for (const id of (await untilLive(s, sub, 'fan-batch')).probes) probes.add(id);
    // The probes' last frames are out before the count starts.
    await new Promise((r) => setTimeout(r, 500));
    const before = await counters(s);

    // One statement changes MANY executions (one transaction, so one batch of the tail); a write through the API
    // wakes the feed.
    const { id: model } = await createExecution(s, { workflowId: 'fan-model' });
    await s.database.db.execute(sql`insert into executions
        (id, organization_id, environment, workflow_id, trigger, root_execution_id, created_at, updated_at)
      select g.id, e.organization_id, e.environment, 'fan-batch', e.trigger, g.id, now(), now()
      from executions e, (select gen_random_uuid() as id from generate_series(1, ${MANY})) g
      where e.id = ${model}`);
    const { id: last } = await createExecution(s, filter);

    const seen = await Promise.all(
      subs.map((sub) => readUntil(sub, (got) => got.some((c) => c.execution.id === last), 30_000)),
    );
    for (const got of seen) {
      const ids = got.map((c) => c.execution.id).filter((id) => !probes.has(id));
      expect(new Set(ids).size).toBe(MANY + 1);
      expect(ids.length).toBe(MANY + 1);
    }
    const after = await counters(s);
    expect(after.executed - before.executed).toBe(MANY + 1);
    expect(after.written - before.written).toBe(3 * (MANY + 1));
    await Promise.all(subs.map((sub) => sub.close()));
  });
});
