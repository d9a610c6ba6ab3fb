import { and, asc, count, desc, eq, inArray, lt } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/client.js';
import {
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
  type WebhookRow,
  webhookAttempts,
  webhookDeliveries,
  webhooks,
} from '../db/schema.js';
import { type Principal, requireScope } from '../domain/access.js';
import { VigilError } from '../domain/errors.js';
import { isUuid } from '../domain/executions.js';
import { parse } from '../domain/inputs.js';
import { RefusedAddressError, type Resolver, vetUrl } from './address.js';
import { createWebhookInput, MAX_WEBHOOKS_PER_TENANT } from './inputs.js';
import { newSecret } from './signature.js';

/** What managing webhooks needs besides the database. */
export interface WebhookSettings {
  allowPrivate: boolean;
  horizonMs: number;
  resolver: Resolver;
  now: () => Date;
  /** Tells the dispatcher a delivery is due now (a redelivery). */
  wake: () => void;
}

export type Webhook = Omit<WebhookRow, 'secret'>;
export type WebhookDelivery = WebhookDeliveryRow & { attemptLog: WebhookAttemptRow[] };
export interface DeliveryPage {
  nodes: WebhookDelivery[];
  cursors: string[];
  hasNextPage: boolean;
}

const notFound = (what: string, id: string) => new VigilError('NOT_FOUND', `${what} ${id} not found`);

const mine = (principal: Principal) =>
  and(eq(webhooks.organizationId, principal.organizationId), eq(webhooks.environment, principal.environment));

function withoutSecret({ secret: _secret, ...webhook }: WebhookRow): Webhook {
  return webhook;
}

/**
 * Registers an endpoint for the caller's organization and environment (API.md §7). The URL's host is resolved and
 * every address vetted by the SSRF guard now, so a refused target is a clear VALIDATION_FAILED at registration (it
 * is vetted again on every attempt, since DNS answers change). The secret is returned here and never again.
 */
export async function createWebhook(
  db: Db,
  settings: WebhookSettings,
  principal: Principal,
  raw: unknown,
): Promise<{ webhook: Webhook; secret: string }> {
  requireScope(principal, 'executions:admin');
  const input = parse(createWebhookInput, raw);
  try {
    await withTimeout(vetUrl(new URL(input.url), settings.allowPrivate, settings.resolver), 5000);
  } catch (err) {
    const msg =
      err instanceof RefusedAddressError
        ? `refused: ${err.message}`
        : `cannot resolve the host: ${err instanceof Error ? err.message : String(err)}`;
    throw new VigilError('VALIDATION_FAILED', `Invalid input: url: ${msg}`, {
      issues: [{ loc: ['url'], msg, type: 'value_error' }],
    });
  }
  const [existing] = await db.select({ n: count() }).from(webhooks).where(mine(principal));
  if ((existing?.n ?? 0) >= MAX_WEBHOOKS_PER_TENANT) {
    const msg = `at most ${MAX_WEBHOOKS_PER_TENANT} webhooks per organization and environment`;
    throw new VigilError('VALIDATION_FAILED', msg, { issues: [{ loc: ['url'], msg, type: 'value_error' }] });
  }
  const secret = newSecret();
  const [row] = await db
    .insert(webhooks)
    .values({
      id: uuidv7(),
      organizationId: principal.organizationId,
      environment: principal.environment,
      url: input.url,
      events: input.events,
      filter: input.filter
        ? {
            workflowId: input.filter.workflowId ?? null,
            status: input.filter.status ?? null,
            tags: input.filter.tags?.length ? input.filter.tags : null,
          }
        : null,
      description: input.description ?? null,
      secret,
      createdAt: settings.now(),
    })
    .returning();
  if (!row) throw new VigilError('INTERNAL', 'Webhook insert returned nothing');
  return { webhook: withoutSecret(row), secret };
}

export async function listWebhooks(db: Db, principal: Principal): Promise<Webhook[]> {
  requireScope(principal, 'executions:admin');
  const rows = await db.select().from(webhooks).where(mine(principal)).orderBy(asc(webhooks.createdAt));
  return rows.map(withoutSecret);
}

export async function findWebhook(db: Db, principal: Principal, id: string): Promise<Webhook | null> {
  requireScope(principal, 'executions:admin');
  if (!isUuid(id)) return null;
  const [row] = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), mine(principal)));
  return row ? withoutSecret(row) : null;
}

/** Deletes the endpoint with its deliveries and their log. Another tenant's webhook is NOT_FOUND. */
export async function deleteWebhook(db: Db, principal: Principal, id: string): Promise<Webhook> {
  requireScope(principal, 'executions:admin');
  if (!isUuid(id)) throw notFound('Webhook', id);
  const [row] = await db
    .delete(webhooks)
    .where(and(eq(webhooks.id, id), mine(principal)))
    .returning();
  if (!row) throw notFound('Webhook', id);
  return withoutSecret(row);
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) {
    throw new VigilError('VALIDATION_FAILED', 'Invalid cursor', {
      issues: [{ loc: ['after'], msg: 'not a cursor from this API', type: 'value_error' }],
    });
  }
  return id;
}

async function withAttempts(db: Db, rows: WebhookDeliveryRow[]): Promise<WebhookDelivery[]> {
  if (rows.length === 0) return [];
  const attempts = await db
    .select()
    .from(webhookAttempts)
    .where(
      inArray(
        webhookAttempts.deliveryId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(webhookAttempts.attempt));
  const by = new Map<string, WebhookAttemptRow[]>();
  for (const a of attempts) by.set(a.deliveryId, [...(by.get(a.deliveryId) ?? []), a]);
  return rows.map((r) => ({ ...r, attemptLog: by.get(r.id) ?? [] }));
}

/** The endpoint's deliveries, newest first, with every attempt (cursor pagination, at most 100 a page). */
export async function listDeliveries(
  db: Db,
  principal: Principal,
  webhookId: string,
  args: { first?: number | null; after?: string | null },
): Promise<DeliveryPage> {
  const webhook = await findWebhook(db, principal, webhookId);
  if (!webhook) throw notFound('Webhook', webhookId);
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > 100) {
    throw new VigilError('VALIDATION_FAILED', 'first must be between 0 and 100', {
      issues: [{ loc: ['first'], msg: 'must be between 0 and 100', type: 'value_error' }],
    });
  }
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhook.id),
        args.after ? lt(webhookDeliveries.id, decodeCursor(args.after)) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(first + 1);
  const nodes = await withAttempts(db, rows.slice(0, first));
  return {
    nodes,
    cursors: nodes.map((n) => Buffer.from(n.id).toString('base64url')),
    hasNextPage: rows.length > first,
  };
}

/**
 * Sends a delivery again, with the same id and body (receivers deduplicate on the id; the signature is fresh). A
 * finished one becomes PENDING with a new retry horizon; a pending one is made due now; one being attempted right
 * now is left to that attempt. An endpoint disabled by a 410 is refused: register it again once it answers.
 */
export async function redeliver(
  db: Db,
  settings: WebhookSettings,
  principal: Principal,
  deliveryId: string,
): Promise<WebhookDelivery> {
  requireScope(principal, 'executions:admin');
  if (!isUuid(deliveryId)) throw notFound('Webhook delivery', deliveryId);
  const [found] = await db
    .select({ delivery: webhookDeliveries, webhook: webhooks })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(and(eq(webhookDeliveries.id, deliveryId), mine(principal)));
  if (!found) throw notFound('Webhook delivery', deliveryId);
  if (found.webhook.disabledAt) {
    throw new VigilError(
      'VALIDATION_FAILED',
      `Webhook ${found.webhook.id} is disabled (${found.webhook.disabledReason ?? 'disabled'}); register the endpoint again`,
      { issues: [{ loc: ['deliveryId'], msg: 'the webhook is disabled', type: 'value_error' }] },
    );
  }
  const now = settings.now();
  const d = found.delivery;
  const [updated] =
    d.state === 'PENDING'
      ? d.leaseId
        ? [d]
        : await db
            .update(webhookDeliveries)
            .set({ nextAttemptAt: now })
            .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.state, 'PENDING')))
            .returning()
      : await db
          .update(webhookDeliveries)
          .set({
            state: 'PENDING',
            nextAttemptAt: now,
            expiresAt: new Date(now.getTime() + settings.horizonMs),
            completedAt: null,
          })
          .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.state, d.state)))
          .returning();
  settings.wake();
  const [result] = await withAttempts(db, [updated ?? d]);
  if (!result) throw notFound('Webhook delivery', deliveryId);
  return result;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
