import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneChanges } from '../../src/domain/changes.js';
import {
  CHANGES,
  type Change,
  type Changes,
  covers,
  cursorOf,
  readUntil,
  sleep,
  untilLive,
} from '../support/changes.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, subscribe, take } from '../support/subscribe.js';

/** (xid, seq) of a cursor, to check the order items arrive in. */
const positionOf = (cursor: string) => {
  const [xid, seq] = cursor.split('.');
  return [BigInt(xid as string), BigInt(seq as string)] as const;
};
const increasing = (changes: Change[]) =>
  changes.every((c, i) => {
    if (i === 0) return true;
    const [x0, s0] = positionOf((changes[i - 1] as Change).cursor);
    const [x1, s1] = positionOf(c.cursor);
    return x1 > x0 || (x1 === x0 && s1 > s0);
  });

/**
 * A writer's transaction held open after its change (T1): on PostgreSQL a connection of its own; on PGlite the one
 * connection, so every other write waits for it (transactions there commit in the order they start).
 */
async function holdChange(s: TestServer, executionId: string): Promise<{ commit(): Promise<void> }> {
  const change = `update executions set metadata = '{"t1": true}'::jsonb, updated_at = now() where id = '${executionId}'`;
  if (s.database.notifier.kind === 'postgres') {
    const sql = postgres(s.databaseUrl as string, { max: 1, onnotice: () => {} });
    const tx = await sql.reserve();
    await tx.unsafe('begin');
    await tx.unsafe(change);
    return {
      commit: async () => {
        await tx.unsafe('commit');
        tx.release();
        await sql.end();
      },
    };
  }
  const { pg } = s.database.notifier;
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let changed!: () => void;
  const inside = new Promise<void>((r) => {
    changed = r;
  });
  const done = pg.transaction(async (tx) => {
    await tx.query(change);
    changed();
    await released;
  });
  await inside;
  return {
    commit: async () => {
      release();
      await done;
    },
  };
}

describe.each(DB_KINDS)('the change feed guarantee on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('a change whose transaction commits after a later one is delivered before it: resuming after the later one loses nothing', async () => {
    const a = await createExecution(s, { workflowId: 'order' });
    const b = await createExecution(s, { workflowId: 'order' });
    const start = await cursorOf(s);
    const sub = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { after: start, filter: { workflowId: 'order' } });
    const naive = kind === 'postgres' ? postgres(s.databaseUrl as string, { max: 1, onnotice: () => {} }) : null;
    const [{ max: baseline } = { max: 0 }] = naive
      ? await naive<{ max: number }[]>`select coalesce(max(seq), 0)::int as max from execution_changes`
      : [];

    const t1 = await holdChange(s, a.id); // T1 has taken its place in the log
    const t2 = record(s, b.id, [{ statusChanged: { to: 'RUNNING' } }]); // T2 starts after T1
    let naiveSeen: { seq: number; execution_id: string }[] = [];
    if (naive) {
      ok(await t2); // on PostgreSQL T2 commits while T1 is still open
      naiveSeen =
        await naive`select seq::int, execution_id::text from execution_changes where seq > ${baseline} order by seq`;
    }
    await sleep(300);
    await t1.commit();
    ok(await t2);

    // The subscriber got T1's change no later than T2's: whoever stops right after T2's cursor has seen it.
    const seen = await readUntil(sub, (got) => got.some((c) => c.execution.id === b.id));
    await sub.close();
    const upToB = seen.slice(0, seen.findIndex((c) => c.execution.id === b.id) + 1);
    const cursorB = upToB.at(-1)?.cursor as string;
    const resumed = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { after: cursorB, filter: { workflowId: 'order' } });
    const after = await readUntil(resumed, () => false, 1000);
    await resumed.close();
    const processed = [...upToB, ...after].map((c) => c.execution.id);
    expect(processed).toContain(a.id);
    expect(increasing(seen)).toBe(true);

    if (naive) {
      // A cursor taken from an insert-time sequence: T2's row was visible (and delivered) before T1's committed with
      // a lower number, so a consumer resuming after T2's number never sees T1's change.
      expect(naiveSeen.map((r) => r.execution_id)).toEqual([b.id]);
      const naiveCursor = naiveSeen[0]?.seq as number;
      const naiveResumed = await naive`select execution_id::text from execution_changes where seq > ${naiveCursor}`;
      expect(naiveResumed.map((r) => r.execution_id)).not.toContain(a.id);
      await naive.end();
    }
  });

  it('resumes in the middle of a replay with nothing missing and nothing repeated', async () => {
    const start = await cursorOf(s);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await createExecution(s, { workflowId: 'mid-replay' })).id);
    const first = subscribe<Changes>(s.url, 'graphql-sse-distinct', CHANGES, {
      after: start,
      filter: { workflowId: 'mid-replay' },
    });
    const head = (await take(first, 10)).map((r) => r.data?.executionChanges as Change);
    await first.close();
    const rest = subscribe<Changes>(s.url, 'graphql-sse-single', CHANGES, {
      after: head.at(-1)?.cursor,
      filter: { workflowId: 'mid-replay' },
    });
    const tail = await readUntil(rest, (got) => got.length >= 20);
    const extra = await readUntil(rest, () => false, 500);
    await rest.close();
    expect(extra).toEqual([]);
    const all = [...head, ...tail].map((c) => c.execution.id);
    expect(all).toEqual(ids);
  });
});

/** The subscriptions' own bound: 200 writers on PGlite under a loaded machine take longer than the default 20 s. */
const LONG = 100_000;

describe('the change feed guarantee under load', () => {
  it.each(DB_KINDS)(
    'on %s: 200 concurrent writers through every instance, subscribers on each, one resuming midway: nothing missing, nothing repeated',
    async (kind) => {
      const one = await startTestServer(kind);
      const two = kind === 'postgres' ? await startTestServer(kind, { databaseUrl: one.databaseUrl }) : one;
      try {
        const start = await cursorOf(one);
        const filter = { workflowId: 'load' };
        const subs = [
          subscribe<Changes>(one.url, 'yoga-sse', CHANGES, { after: start, filter }, {}, LONG),
          subscribe<Changes>(two.url, 'graphql-sse-distinct', CHANGES, { after: start, filter }, {}, LONG),
        ];
        const quitter = subscribe<Changes>(two.url, 'yoga-sse', CHANGES, { after: start, filter }, {}, LONG);
        const expected = new Map<string, number>();
        const writers = Array.from({ length: 200 }, async (_, i) => {
          const via = i % 2 === 0 ? one : two;
          const { id } = await createExecution(via, filter);
          ok(await record(via, id, [{ statusChanged: { to: 'RUNNING' } }]));
          ok(await record(i % 3 === 0 ? one : two, id, [{ progress: { percentage: 50 } }]));
          ok(await record(via, id, [{ statusChanged: { to: 'COMPLETED' } }]));
          expected.set(id, 3);
        });
        // One subscriber leaves after some changes and resumes from the last cursor it processed.
        const before = await readUntil(quitter, (got) => got.length >= 60, 30_000);
        await quitter.close();
        const resumed = subscribe<Changes>(
          one.url,
          'graphql-sse-single',
          CHANGES,
          {
            after: before.at(-1)?.cursor,
            filter,
          },
          {},
          LONG,
        );
        await Promise.all(writers);
        const done = (got: Change[]) => covers(got, expected);
        const results = await Promise.all(subs.map((sub) => readUntil(sub, done, 30_000)));
        const after = await readUntil(resumed, (got) => covers([...before, ...got], expected), 30_000);
        for (const [n, seen] of [...results, [...before, ...after]].entries()) {
          const missing = [...expected].filter(
            ([id]) => !seen.some((c) => c.execution.id === id && c.execution.lastSequence >= 3),
          );
          expect({ subscriber: n, missing: missing.length, seen: seen.length }).toEqual({
            subscriber: n,
            missing: 0,
            seen: seen.length,
          });
          expect(new Set(seen.map((c) => c.cursor)).size).toBe(seen.length);
          expect(increasing(seen)).toBe(true);
          // Never an older state after a newer one of the same execution.
          const last = new Map<string, number>();
          for (const c of seen) {
            expect(c.execution.lastSequence).toBeGreaterThanOrEqual(last.get(c.execution.id) ?? 0);
            last.set(c.execution.id, c.execution.lastSequence);
          }
        }
        await Promise.all([...subs, resumed].map((sub) => sub.close()));
      } finally {
        if (two !== one) await two.close();
        await one.close();
      }
    },
    120_000,
  );
});

describe.each(DB_KINDS)('expired cursors on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_CHANGES_RETENTION_HOURS: '0.0003' } }); // ~1 s
  });
  afterAll(() => s.close());

  it('refuses a cursor whose changes were pruned with VALIDATION_FAILED saying what to do, on GraphQL and REST', async () => {
    const old = await cursorOf(s);
    await createExecution(s, { workflowId: 'expire' });
    const deadline = Date.now() + 15_000;
    let first: Awaited<ReturnType<typeof take<Changes>>>[number] | undefined;
    do {
      await sleep(500);
      [first] = await take(subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { after: old }), 1);
    } while (!first?.errors && Date.now() < deadline);
    expect(first?.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(first?.errors?.[0]?.message).toMatch(/older than the change feed keeps.*executionChangesCursor/);
    const rest = await fetch(`${s.url}/api/v1/executions/changes`, { headers: { 'last-event-id': old } });
    expect(rest.status).toBe(422);
    expect(await rest.json()).toMatchObject({ error_code: 'VALIDATION_FAILED' });
    // A fresh cursor works.
    const fresh = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { after: await cursorOf(s) });
    const e = await createExecution(s, { workflowId: 'expire' });
    const got = await readUntil(fresh, (seen) => seen.some((c) => c.execution.id === e.id));
    expect(got.map((c) => c.execution.id)).toContain(e.id);
    await fresh.close();
  });
});

describe.each(DB_KINDS)('a prune past the live position on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('ends the live streams that may have missed pruned rows, and not one that joined after the prune with a fresh cursor', async () => {
    // A live stream keeps the process's tail at the frontier of its last read.
    const old = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, { filter: { workflowIdPrefix: 'pruned-' } });
    await untilLive(s, old, 'pruned-probe');
    // Two prunes with nothing to keep: the second's mark is above the first's own transaction, so the horizon
    // passes the tail's position without a change row written (as an hourly prune does on a quiet system).
    await pruneChanges(s.database.db, 0, new Date());
    await pruneChanges(s.database.db, 0, new Date());
    // A client that finds its cursor expired takes a fresh one and resumes from it, while the old stream is open.
    const fresh = subscribe<Changes>(s.url, 'yoga-sse', CHANGES, {
      filter: { workflowIdPrefix: 'pruned-' },
      after: await cursorOf(s),
    });
    const e = await createExecution(s, { workflowId: 'pruned-after' });
    const got = await readUntil(fresh, (seen) => seen.some((c) => c.execution.id === e.id));
    expect(got.map((c) => c.execution.id)).toEqual([e.id]);
    // The old stream cannot know what the prune took from under it: it ends with the expired cursor's error.
    const ended = await collect(old);
    expect(ended.at(-1)?.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    await fresh.close();
  });
});
