/**
 * Exponential backoff with "equal jitter": the n-th retry waits a random time in [d/2, d], d = min(max, base·2^(n−1)).
 * The jitter spreads retries of many deliveries that failed together (a receiver outage), and the lower bound keeps
 * the schedule growing.
 */
export function retryDelayMs(attemptsMade: number, baseMs: number, maxMs: number, random = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/**
 * The moments (ms after the first attempt) at which attempts happen when every attempt fails, with the jitter at
 * its upper bound: for the README and the report on what the defaults imply.
 */
export function worstCaseSchedule(baseMs: number, maxMs: number, horizonMs: number): number[] {
  const at = [0];
  for (let n = 1; ; n++) {
    const next = (at.at(-1) ?? 0) + retryDelayMs(n, baseMs, maxMs, () => 1);
    if (next > horizonMs) return at;
    at.push(next);
  }
}
