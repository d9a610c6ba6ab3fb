import { VigilError } from '../domain/errors.js';

/**
 * A token bucket per caller (API key, or client address with auth off): `rate` requests per second, bursts up to
 * `burst`. Per process: N instances allow N × rate. A long-lived wait or stream takes one token when it opens.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly rate: number,
    private readonly burst: number = Math.max(1, Math.ceil(rate)),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sweep = setInterval(() => this.forgetIdle(), 60_000);
    this.sweep.unref();
  }

  /** Takes one token for `caller`, or throws RATE_LIMITED with the seconds until one is free. */
  take(caller: string): void {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
      throw new VigilError('RATE_LIMITED', `Rate limit of ${this.rate} requests per second exceeded`, { retryAfter });
    }
    bucket.tokens -= 1;
  }

  private forgetIdle(): void {
    const now = this.now();
    for (const [caller, b] of this.buckets) {
      if (now - b.at > 60_000) this.buckets.delete(caller);
    }
  }

  stop(): void {
    clearInterval(this.sweep);
  }
}
