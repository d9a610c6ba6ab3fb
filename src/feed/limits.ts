import { VigilError } from '../domain/errors.js';

/** Waits and streams one server may hold open (VIGIL_MAX_WAITERS, VIGIL_MAX_STREAMS). */
export interface Capacity {
  waiters: number;
  streams: number;
}

export const DEFAULT_CAPACITY: Capacity = { waiters: 50_000, streams: 50_000 };

/**
 * The open waits and streams of one server's feed against its capacity; past it a new one is SERVICE_UNAVAILABLE
 * (seed 000/002's 503). Per feed, so two servers in one process count apart.
 */
export class Slots {
  readonly open = { waiters: 0, streams: 0 };

  constructor(readonly capacity: Capacity = { ...DEFAULT_CAPACITY }) {}
}

/** Claims a slot for a wait or stream, or throws SERVICE_UNAVAILABLE; returns the release. */
export function claim(feed: { isClosed: boolean; slots: Slots }, kind: 'waiters' | 'streams'): () => void {
  take(feed, kind);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    give(feed, kind);
  };
}

/**
 * `claim` without the closure, for a holder that releases exactly once itself (`give`): a held wait need not keep a
 * closure for its slot.
 */
export function take(feed: { isClosed: boolean; slots: Slots }, kind: 'waiters' | 'streams'): void {
  if (feed.isClosed) {
    throw new VigilError('SERVICE_UNAVAILABLE', 'The server is shutting down; retry against another instance', {
      retryAfter: 1,
    });
  }
  const { open, capacity } = feed.slots;
  if (open[kind] >= capacity[kind]) {
    throw new VigilError('SERVICE_UNAVAILABLE', `At capacity: ${capacity[kind]} open ${kind}`, { retryAfter: 5 });
  }
  open[kind] += 1;
}

/** Gives back a slot `take` claimed. */
export function give(feed: { slots: Slots }, kind: 'waiters' | 'streams'): void {
  feed.slots.open[kind] -= 1;
}
