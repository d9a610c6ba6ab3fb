import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { WebhookDeliveryRow, WebhookRow } from '../db/schema.js';
import type { Poster, PostResult } from './post.js';
import { retryDelayMs } from './schedule.js';
import { signatureHeader } from './signature.js';
import { claimDue, loadEndpoints, type Outcome, recordAttempt } from './store.js';

export interface DispatcherOptions {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts in flight in this instance. */
  concurrency: number;
  /** Attempts in flight per endpoint in this instance. */
  perEndpoint: number;
  /** Safety-net poll: deliveries of crashed instances, retries scheduled elsewhere. */
  pollMs: number;
}

export interface DispatcherLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface DispatcherObserver {
  attempt(outcome: Outcome['kind'] | 'lost', seconds: number): void;
}

/** How long a claim hides a delivery from other instances: past the attempt's own timeout, with room to record it. */
export const leaseMsFor = (timeoutMs: number) => 2 * timeoutMs + 5000;

/**
 * The delivery worker of one instance. It claims due outbox rows (store.ts), posts each signed (API.md §7), logs the
 * attempt and applies the outcome. It runs a pass when woken (after a local commit wrote deliveries, after an
 * attempt ends), at the next retry it scheduled, and every `pollMs` as a safety net.
 */
export class WebhookDispatcher {
  private readonly inflight = new Map<string, { webhookId: string; done: Promise<void> }>();
  private readonly perWebhook = new Map<string, number>();
  private readonly abort = new AbortController();
  private passing: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly db: Db,
    private readonly poster: Poster,
    private readonly options: DispatcherOptions,
    private readonly log: DispatcherLogger,
    private readonly observer: DispatcherObserver = { attempt: () => {} },
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    this.wake();
  }

  /** Runs a pass soon; passes never overlap, and a wake during one runs another right after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.passes().finally(() => {
      this.passing = null;
    });
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (err) {
        this.log.warn({ err }, 'webhook claim failed; retrying at the next poll');
      }
    } while (this.again && !this.stopped);
    this.arm(this.options.pollMs);
  }

  private async pass(): Promise<void> {
    const free = this.options.concurrency - this.inflight.size;
    if (free <= 0) return;
    const now = this.now();
    const leaseId = randomUUID();
    const claimed = await claimDue(this.db, {
      now,
      limit: free,
      perEndpoint: this.options.perEndpoint,
      busy: this.perWebhook,
      leaseId,
      leaseUntil: new Date(now.getTime() + leaseMsFor(this.options.timeoutMs)),
    });
    if (claimed.length === 0) return;
    const endpoints = await loadEndpoints(this.db, [...new Set(claimed.map((d) => d.webhookId))]);
    for (const delivery of claimed) {
      const endpoint = endpoints.get(delivery.webhookId);
      if (!endpoint) continue; // deleted since the claim: its deliveries went with it
      this.perWebhook.set(endpoint.id, (this.perWebhook.get(endpoint.id) ?? 0) + 1);
      const done = this.attempt(delivery, endpoint).finally(() => {
        this.inflight.delete(delivery.id);
        const left = (this.perWebhook.get(endpoint.id) ?? 1) - 1;
        if (left > 0) this.perWebhook.set(endpoint.id, left);
        else this.perWebhook.delete(endpoint.id);
        this.wake();
      });
      this.inflight.set(delivery.id, { webhookId: endpoint.id, done });
    }
    // Claimed as many as there were slots: more may be due.
    if (claimed.length === free) this.again = true;
  }

  private async attempt(delivery: WebhookDeliveryRow, endpoint: WebhookRow): Promise<void> {
    const startedAt = this.now();
    const t = Math.floor(startedAt.getTime() / 1000);
    const result = await this.poster.post(
      endpoint.url,
      {
        'content-type': 'application/json',
        'user-agent': 'Vigil-Webhooks/1',
        'vigil-event': delivery.eventType,
        'vigil-delivery-id': delivery.id,
        'vigil-delivery-attempt': String(delivery.attempts),
        'vigil-signature': signatureHeader(endpoint.secret, delivery.body, t),
      },
      delivery.body,
      this.abort.signal,
    );
    const outcome = this.outcomeOf(delivery, result);
    this.observer.attempt(outcome.kind, result.durationMs / 1000);
    try {
      await recordAttempt(
        this.db,
        delivery,
        {
          attempt: delivery.attempts,
          startedAt,
          durationMs: result.durationMs,
          statusCode: result.statusCode,
          success: outcome.kind === 'succeeded',
          error: result.error ?? (outcome.kind === 'succeeded' ? null : failureOf(result.statusCode)),
          responseExcerpt: result.excerpt,
        },
        outcome,
        this.now(),
      );
    } catch (err) {
      // The lease expires and the delivery is attempted again: at least once, possibly twice.
      this.observer.attempt('lost', 0);
      this.log.warn({ err, deliveryId: delivery.id }, 'recording a webhook attempt failed; it will be retried');
      return;
    }
    if (outcome.kind === 'retry') this.arm(outcome.at.getTime() - this.now().getTime());
    this.log.debug(
      { deliveryId: delivery.id, attempt: delivery.attempts, status: result.statusCode, outcome: outcome.kind },
      'webhook attempt',
    );
  }

  private outcomeOf(delivery: WebhookDeliveryRow, result: PostResult): Outcome {
    const status = result.statusCode;
    if (status !== null && status >= 200 && status < 300) return { kind: 'succeeded' };
    if (status === 410) return { kind: 'gone' };
    const now = this.now();
    // Cut short by our own shutdown: not the receiver's fault, another instance (or the restart) goes at once.
    if (this.stopped) return { kind: 'retry', at: now };
    const at = new Date(
      now.getTime() + retryDelayMs(delivery.attempts, this.options.retryBaseMs, this.options.retryMaxMs),
    );
    return at > delivery.expiresAt ? { kind: 'abandoned' } : { kind: 'retry', at };
  }

  /** Makes sure a pass runs within `ms` (keeps the earliest of the requested moments). */
  private arm(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, ms);
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.wake();
      },
      Math.max(0, ms),
    );
    this.timer.unref();
  }

  /** Stops claiming, cuts in-flight attempts short (they are retried at once elsewhere), and waits for their logs. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.passing;
    await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
    this.poster.close();
  }
}

function failureOf(status: number | null): string {
  if (status === null) return 'no response';
  if (status >= 300 && status < 400) return `redirect (${status}) not followed`;
  return `HTTP ${status}`;
}
