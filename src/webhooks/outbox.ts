import { and, eq, isNull } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Executor } from '../db/client.js';
import { type WebhookRow, webhookDeliveries, webhooks } from '../db/schema.js';
import type { StatusChangeHook } from '../domain/context.js';
import { executionJson } from '../domain/execution-view.js';
import type { Execution } from '../domain/types.js';
import { eventTypeFor, matchesWebhookFilter, type WebhookFilter } from './inputs.js';
import { deliveryBody } from './payload.js';

/**
 * The outbox writer (API.md §7): inside the transaction of every status change, one delivery row per matching
 * endpoint, so the delivery commits or rolls back with the change and a crash after commit loses none.
 *
 * A worker batch may change the status more than once in one transaction; the hook then sees the same final
 * execution each time, and writes once (with the status before the transaction as `previousStatus`): the
 * intermediate states were never visible to anyone, as with `executionUpdated`.
 */
export class WebhookOutbox implements StatusChangeHook {
  /** Per transaction: executions already written, and the endpoints of each tenant (read once per transaction). */
  private readonly seen = new WeakMap<Executor, { executions: Set<string>; endpoints: Map<string, WebhookRow[]> }>();

  constructor(
    private readonly horizonMs: number,
    /** Called after a row was written (the transaction may still roll back); the dispatcher wakes after commit. */
    private readonly onWritten: () => void = () => {},
  ) {}

  async onStatusChanged(tx: Executor, execution: Execution, from: Execution['status'], at: Date): Promise<void> {
    let state = this.seen.get(tx);
    if (!state) {
      state = { executions: new Set(), endpoints: new Map() };
      this.seen.set(tx, state);
    }
    if (state.executions.has(execution.id)) return;
    state.executions.add(execution.id);

    const tenant = `${execution.organizationId}/${execution.environment}`;
    let endpoints = state.endpoints.get(tenant);
    if (!endpoints) {
      endpoints = await tx
        .select()
        .from(webhooks)
        .where(
          and(
            eq(webhooks.organizationId, execution.organizationId),
            eq(webhooks.environment, execution.environment),
            isNull(webhooks.disabledAt),
          ),
        );
      state.endpoints.set(tenant, endpoints);
    }
    if (endpoints.length === 0) return;

    let json: string | null = null;
    const rows = [];
    for (const w of endpoints) {
      const type = eventTypeFor(w.events, execution.status);
      if (!type || !matchesWebhookFilter(w.filter as WebhookFilter | null, execution)) continue;
      json ??= JSON.stringify(executionJson(execution));
      const id = uuidv7();
      rows.push({
        id,
        webhookId: w.id,
        executionId: execution.id,
        sequence: execution.lastSequence,
        eventType: type,
        body: deliveryBody(id, type, at, json, from),
        nextAttemptAt: at,
        expiresAt: new Date(at.getTime() + this.horizonMs),
        createdAt: at,
      });
    }
    if (rows.length === 0) return;
    await tx.insert(webhookDeliveries).values(rows);
    this.onWritten();
  }
}
