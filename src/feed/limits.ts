import { VigilError } from '../domain/errors.js';
import type { ChangeFeed } from './feed.js';

/** Open waits and streams per process; past them a new one is SERVICE_UNAVAILABLE (seed 000/002's 503). */
export const capacity = { waiters: 50_000, streams: 50_000 };
export const open = { waiters: 0, streams: 0 };

export function configureCapacity(next: Partial<typeof capacity>): void {
  Object.assign(capacity, next);
}

/** Claims a slot for a wait or stream, or throws SERVICE_UNAVAILABLE; returns the release. */
export function claim(feed: ChangeFeed, kind: 'waiters' | 'streams'): () => void {
  if (feed.isClosed) {
    throw new VigilError('SERVICE_UNAVAILABLE', 'The server is shutting down; retry against another instance', {
      retryAfter: 1,
    });
  }
  if (open[kind] >= capacity[kind]) {
    throw new VigilError('SERVICE_UNAVAILABLE', `At capacity: ${capacity[kind]} open ${kind}`, { retryAfter: 5 });
  }
  open[kind] += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    open[kind] -= 1;
  };
}
