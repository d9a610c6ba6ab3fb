import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneChanges } from '../../src/domain/changes.js';
import { CHANGES, type Changes, cursorOf, readUntil, untilLive } from '../support/changes.js';
import { createExecution, DB_KINDS } from '../support/harness.js';
import { type HookedServer, startHookedServer } from '../support/query-hook.js';
import { collect, subscribe } from '../support/subscribe.js';

/** The frontier read (`readFeedState`): a stream's check of its cursor, then its frontier once it joined the tail. */
const readsFeedState = (text: string) =>
  text.startsWith('select pg_snapshot_xmin(pg_current_snapshot())::text as frontier');

describe.each(DB_KINDS)('a prune that passes the tail while a stream joins, on %s', (kind) => {
  let s: HookedServer;
  beforeAll(async () => {
    s = await startHookedServer(kind);
  });
  afterAll(() => s.close());

  it('keeps the joining stream when the frontier it then reads is above the horizon', async () => {
    // A live stream keeps the tail at its last read; two prunes raise the horizon past it with no change row.
    const old = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { filter: { workflowIdPrefix: 'joining-' } });
    await untilLive(s, old, 'joining-probe');
    await pruneChanges(s.database.db, 0, new Date());
    await pruneChanges(s.database.db, 0, new Date());
    const after = await cursorOf(s);
    // Between the new stream joining the tail and reading its frontier, a commit wakes the tail, which meets the
    // prune: the old stream ends (it needed pruned rows); the new one has no frontier yet.
    let reads = 0;
    let created = '';
    const stepped = s.beforeQuery(
      (text) => readsFeedState(text) && ++reads === 2,
      async () => {
        created = (await createExecution(s, { workflowId: 'joining-after' })).id;
        const ended = await collect(old);
        expect(ended.at(-1)?.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
      },
    );
    const fresh = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { filter: { workflowIdPrefix: 'joining-' }, after });
    await stepped;
    // Its frontier is above the horizon (the prune committed before it joined): it lost nothing and goes on.
    const got = await readUntil(fresh, (seen) => seen.some((c) => c.execution.id === created));
    expect(got.map((c) => c.execution.id)).toEqual([created]);
    const next = (await createExecution(s, { workflowId: 'joining-next' })).id;
    const live = await readUntil(fresh, (seen) => seen.some((c) => c.execution.id === next));
    expect(live.map((c) => c.execution.id)).toEqual([next]);
    await fresh.close();
  });
});
