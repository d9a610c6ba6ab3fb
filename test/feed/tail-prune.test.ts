import { describe, expect, it, vi } from 'vitest';
import type { Executor } from '../../src/db/client.js';
import { codecOf, type FeedState, type Position } from '../../src/domain/changes.js';
import type { VigilError } from '../../src/domain/errors.js';
import { ChangeTail, type TailSubscriber } from '../../src/feed/change-tail.js';
import type { ChangeFeed } from '../../src/feed/feed.js';

// The tail's reads answered by the test: its position falls below a prune's horizon with no row written.
const reads = vi.hoisted(() => ({
  state: null as unknown as FeedState,
  tails: [] as { after: Position; state: FeedState }[],
}));
vi.mock('../../src/domain/changes.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/domain/changes.js')>();
  return {
    ...real,
    readFeedState: async () => reads.state,
    readTail: async (_db: unknown, after: Position) => {
      const state = reads.state;
      reads.tails.push({ after, state });
      return { rows: [], state };
    },
  };
});

const at = (xid: number): Position => ({ xid: BigInt(xid), seq: 0n });
const stateAt = (frontier: number, horizon: number): FeedState => ({
  frontier: at(frontier),
  horizon: at(horizon),
  held: false,
});

function subscriber(needs: Position | null) {
  const ended: (VigilError | undefined)[] = [];
  const told: Position[] = [];
  const s: TailSubscriber = {
    receive: () => {},
    closed: (e) => ended.push(e),
    needs: () => needs,
    prunedBefore: (horizon) => told.push(horizon),
  };
  return { s, ended, told };
}

describe('a prune past the change tail', () => {
  it('ends the streams that needed pruned rows (expired), tells the horizon to those that cannot tell yet, and reads on', async () => {
    let observer: { changed(): void } | undefined;
    const feed = {
      observe: (o: { changed(): void }) => {
        observer = o;
        return () => {};
      },
    } as unknown as ChangeFeed;
    const warn = vi.fn();
    const tail = new ChangeTail({} as Executor, codecOf('k'), feed, { warn });
    reads.state = stateAt(10, 0);
    const before = subscriber(at(10)); // its frontier is below the coming horizon: it may have missed rows
    const later = subscriber(at(25)); // joined after the prune: its frontier is above the horizon
    const starting = subscriber(null); // has not read its frontier yet
    for (const { s } of [before, later, starting]) expect(await tail.join(s)).toEqual(at(10));

    reads.state = stateAt(30, 20); // a prune raised the horizon past the tail's position (10)
    observer?.changed();
    await vi.waitFor(() => expect(reads.tails.length).toBe(2));

    expect(before.ended.map((e) => e?.code)).toEqual(['VALIDATION_FAILED']);
    // it judges itself against the horizon once it has read its frontier (changes.ts), and is not ended here
    expect(starting.ended).toEqual([]);
    expect(starting.told).toEqual([at(20)]);
    expect(later.ended).toEqual([]);
    expect(later.told).toEqual([]);
    expect(tail.size).toBe(2);
    // the first read was from the stale position, the next from the horizon, and the tail then stood at the frontier
    expect(reads.tails.map((r) => r.after)).toEqual([at(10), at(20)]);
    expect(warn).toHaveBeenCalledWith({ ended: 1 }, expect.stringContaining('pruned past the live position'));
    tail.close();
    expect(later.ended).toEqual([undefined]);
    expect(starting.ended).toEqual([undefined]);
  });
});
