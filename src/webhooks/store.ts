import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type WebhookDeliveryRow, webhookAttempts, webhookDeliveries, webhooks } from '../db/schema.js';

export interface ClaimOptions {
  now: Date;
  /** How many rows to claim at most (free slots of this instance). */
  limit: number;
  /** At most this many attempts in flight per endpoint (in this instance). */
  perEndpoint: number;
  /** Attempts this instance has in flight, per endpoint. */
  busy: ReadonlyMap<string, number>;
  leaseId: string;
  leaseUntil: Date;
}

/**
 * Claims due deliveries for one attempt each, in one statement on both databases:
 * - due: PENDING with `next_attempt_at <= now` (a lease in the future hides a row being attempted elsewhere);
 * - ordered: no earlier PENDING delivery of the same endpoint and execution exists;
 * - fair: at most `perEndpoint − busy` rows per endpoint, oldest due first, so one slow receiver cannot take every
 *   slot;
 * - exclusive: rows are locked with `FOR UPDATE SKIP LOCKED` and re-checked under the lock, so of several instances
 *   claiming at once each row goes to one, which moves `next_attempt_at` to the lease's end.
 * The attempt counter is taken here, so attempt numbers stay unique even when a lease expires mid-attempt.
 */
export async function claimDue(db: Db, o: ClaimOptions): Promise<WebhookDeliveryRow[]> {
  if (o.limit <= 0) return [];
  const now = sql`${o.now.toISOString()}::timestamptz`;
  const busy = JSON.stringify(Object.fromEntries(o.busy));
  const candidates = sql`
    select c.id from (
      select d.id, d.next_attempt_at,
        row_number() over (partition by d.webhook_id order by d.next_attempt_at, d.id) as rn,
        coalesce((${busy}::jsonb ->> d.webhook_id::text)::int, 0) as busy
      from webhook_deliveries d
      join webhooks w on w.id = d.webhook_id and w.disabled_at is null
      where d.state = 'PENDING' and d.next_attempt_at <= ${now}
        and not exists (
          select 1 from webhook_deliveries e
          where e.webhook_id = d.webhook_id and e.execution_id = d.execution_id
            and e.state = 'PENDING' and e.sequence < d.sequence)
    ) c
    where c.rn + c.busy <= ${o.perEndpoint}
    order by c.next_attempt_at
    limit ${o.limit}`;
  const locked = sql`
    select l.id from webhook_deliveries l
    where l.id in (${candidates}) and l.state = 'PENDING' and l.next_attempt_at <= ${now}
    for update skip locked`;
  return db
    .update(webhookDeliveries)
    .set({ leaseId: o.leaseId, nextAttemptAt: o.leaseUntil, attempts: sql`${webhookDeliveries.attempts} + 1` })
    .where(sql`${webhookDeliveries.id} in (${locked})`)
    .returning();
}

export interface AttemptRecord {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  success: boolean;
  error: string | null;
  responseExcerpt: string | null;
}

export type Outcome =
  | { kind: 'succeeded' }
  | { kind: 'retry'; at: Date }
  | { kind: 'abandoned' }
  /** The receiver answered 410 Gone: the endpoint is disabled and its pending deliveries fail. */
  | { kind: 'gone' };

/**
 * Logs an attempt and applies its outcome, in one short transaction, guarded on the lease: a delivery whose lease
 * was lost (taken over after expiry) keeps its log line but not our outcome.
 */
export async function recordAttempt(
  db: Db,
  delivery: Pick<WebhookDeliveryRow, 'id' | 'webhookId' | 'leaseId'>,
  attempt: AttemptRecord,
  outcome: Outcome,
  now: Date,
): Promise<void> {
  const leaseId = delivery.leaseId;
  if (!leaseId) return;
  await db.transaction(async (tx) => {
    const [exists] = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, delivery.id))
      .for('update');
    if (!exists) return; // the webhook was deleted meanwhile, and its deliveries with it
    await tx
      .insert(webhookAttempts)
      .values({ deliveryId: delivery.id, ...attempt })
      .onConflictDoNothing();
    const last = { lastStatusCode: attempt.statusCode, lastError: attempt.error, leaseId: null };
    const mine = and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.leaseId, leaseId));
    if (outcome.kind === 'retry') {
      // An endpoint disabled meanwhile (410 on another attempt) gets no retry.
      const disabled = sql`exists (select 1 from webhooks w where w.id = ${delivery.webhookId} and w.disabled_at is not null)`;
      await tx
        .update(webhookDeliveries)
        .set({
          ...last,
          nextAttemptAt: outcome.at,
          state: sql`case when ${disabled} then 'FAILED'::webhook_delivery_state else 'PENDING'::webhook_delivery_state end`,
          completedAt: sql`case when ${disabled} then ${now.toISOString()}::timestamptz end`,
        })
        .where(mine);
      return;
    }
    await tx
      .update(webhookDeliveries)
      .set({ ...last, state: outcome.kind === 'succeeded' ? 'SUCCEEDED' : 'FAILED', completedAt: now })
      .where(mine);
    if (outcome.kind === 'gone') {
      await tx
        .update(webhooks)
        .set({ disabledAt: now, disabledReason: `The receiver answered 410 Gone (delivery ${delivery.id})` })
        .where(and(eq(webhooks.id, delivery.webhookId), isNull(webhooks.disabledAt)));
      await tx
        .update(webhookDeliveries)
        .set({ state: 'FAILED', completedAt: now, lastError: 'Endpoint disabled: the receiver answered 410 Gone' })
        .where(
          and(
            eq(webhookDeliveries.webhookId, delivery.webhookId),
            eq(webhookDeliveries.state, 'PENDING'),
            isNull(webhookDeliveries.leaseId),
          ),
        );
    }
    if (outcome.kind === 'succeeded') {
      // The receiver is back: deliveries of this endpoint waiting out a backoff go now (oldest first, by the claim
      // order), instead of each waiting for its own next retry. Leased rows are being attempted; left alone.
      await tx
        .update(webhookDeliveries)
        .set({ nextAttemptAt: now })
        .where(
          and(
            eq(webhookDeliveries.webhookId, delivery.webhookId),
            eq(webhookDeliveries.state, 'PENDING'),
            isNull(webhookDeliveries.leaseId),
            gt(webhookDeliveries.nextAttemptAt, now),
          ),
        );
    }
  });
}

/** Endpoints by id, for the attempts of a claim (URL and secret may have been read long before). */
export async function loadEndpoints(db: Db, ids: string[]) {
  if (ids.length === 0) return new Map<string, typeof webhooks.$inferSelect>();
  const rows = await db.select().from(webhooks).where(inArray(webhooks.id, ids));
  return new Map(rows.map((w) => [w.id, w]));
}

/** Queue depth and the age of the oldest pending delivery (for /metrics). */
export async function queueStats(db: Db, now: Date): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const [row] = await db
    .select({
      pending: sql<number>`count(*)::int`,
      oldest: sql<string | null>`min(${webhookDeliveries.createdAt})::text`,
    })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.state, 'PENDING'));
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : null;
  return {
    pending: row?.pending ?? 0,
    oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
  };
}
