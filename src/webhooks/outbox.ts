import { and, eq, isNull, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { pgArray } from '../db/arrays.js';
import type { Executor } from '../db/client.js';
import { executions, type WebhookRow, webhooks } from '../db/schema.js';
import type { StatusChangeHook, Tenant } from '../domain/context.js';
import { executionJson } from '../domain/execution-view.js';
import type { Execution } from '../domain/types.js';
import { eventTypeFor, matchesWebhookFilter, type WebhookFilter } from './inputs.js';
import { deliveryBody } from './payload.js';

/** Per transaction: executions already written, and the endpoints of each tenant (read once per transaction). */
interface TxState {
  executions: Set<string>;
  endpoints: Map<string, WebhookRow[]>;
}

const tenantKey = (t: Tenant) => `${t.organizationId}/${t.environment}`;

/** A tenant's enabled endpoints (by values, or by the columns of the row being changed): the ones that get deliveries. */
const enabledEndpoints = (organizationId: string | SQLWrapper, environment: Tenant['environment'] | SQLWrapper) =>
  and(eq(webhooks.organizationId, organizationId), eq(webhooks.environment, environment), isNull(webhooks.disabledAt));

/** Tenants remembered as having endpoints, at most (the oldest forgotten first; forgetting costs one futile try). */
const BUSY_LIMIT = 10_000;

/**
 * The outbox writer (API.md §7): inside the transaction of every status change, one delivery row per matching
 * endpoint, so the delivery commits or rolls back with the change and a crash after commit loses none.
 *
 * The endpoints are read in the transaction itself (never cached across transactions), so an endpoint created or
 * deleted on any instance counts for the next status change anywhere. A writer that pipelines (`prepare` beside its
 * row lock, `writesFor` sent with its COMMIT) pays no round trip of its own for them; the insert keeps only the
 * endpoints that still exist and are enabled when it runs, so one deleted meanwhile gets nothing (and fails nothing).
 *
 * A worker batch may change the status more than once in one transaction; the hook then sees the same final
 * execution each time, and writes once (with the status before the transaction as `previousStatus`): the
 * intermediate states were never visible to anyone, as with `executionUpdated`.
 */
export class WebhookOutbox implements StatusChangeHook {
  private readonly seen = new WeakMap<Executor, TxState>();
  /** Tenants whose last read found an enabled endpoint (`expectsWrites`). */
  private readonly busy = new Set<string>();

  constructor(
    private readonly horizonMs: number,
    /** Called when rows are to be written (the transaction may still roll back); the dispatcher wakes after commit. */
    private readonly onWritten: () => void = () => {},
  ) {}

  private stateOf(tx: Executor): TxState {
    let state = this.seen.get(tx);
    if (!state) {
      state = { executions: new Set(), endpoints: new Map() };
      this.seen.set(tx, state);
    }
    return state;
  }

  /** Reads the tenant's enabled endpoints for this transaction. */
  async prepare(tx: Executor, tenant: Tenant): Promise<void> {
    const state = this.stateOf(tx);
    if (state.endpoints.has(tenantKey(tenant))) return;
    const rows = await tx.select().from(webhooks).where(enabledEndpoints(tenant.organizationId, tenant.environment));
    state.endpoints.set(tenantKey(tenant), rows);
    this.remember(tenantKey(tenant), rows.length > 0);
  }

  /** No enabled endpoint of the changed row's tenant: the condition `prepare`'s read would answer as an empty list. */
  quiet(): SQL {
    return sql`not exists (select 1 from ${webhooks} where ${enabledEndpoints(executions.organizationId, executions.environment)})`;
  }

  /** Whether the tenant had an enabled endpoint when this process last read its endpoints. */
  expectsWrites(tenant: Tenant): boolean {
    return this.busy.has(tenantKey(tenant));
  }

  private remember(key: string, busy: boolean): void {
    this.busy.delete(key);
    if (!busy) return;
    this.busy.add(key);
    if (this.busy.size > BUSY_LIMIT) this.busy.delete(this.busy.values().next().value as string);
  }

  async onStatusChanged(tx: Executor, execution: Execution, from: Execution['status'], at: Date): Promise<void> {
    await this.prepare(tx, execution);
    for (const write of this.writesFor(tx, execution, from, at) ?? []) await tx.execute(write);
  }

  /** The delivery rows of this change, as one statement (none when nothing matches); null when not prepared. */
  writesFor(tx: Executor, execution: Execution, from: Execution['status'], at: Date): SQL[] | null {
    const state = this.stateOf(tx);
    const endpoints = state.endpoints.get(tenantKey(execution));
    if (!endpoints) return null;
    if (state.executions.has(execution.id)) return [];
    state.executions.add(execution.id);
    if (endpoints.length === 0) return [];

    let json: string | null = null;
    const ids: string[] = [];
    const webhookIds: string[] = [];
    const types: string[] = [];
    const bodies: string[] = [];
    for (const w of endpoints) {
      const type = eventTypeFor(w.events, execution.status);
      if (!type || !matchesWebhookFilter(w.filter as WebhookFilter | null, execution)) continue;
      json ??= JSON.stringify(executionJson(execution));
      const id = uuidv7();
      ids.push(id);
      webhookIds.push(w.id);
      types.push(type);
      bodies.push(deliveryBody(id, type, at, json, from));
    }
    if (ids.length === 0) return [];
    this.onWritten();
    const time = at.toISOString();
    const expires = new Date(at.getTime() + this.horizonMs).toISOString();
    return [
      sql`insert into webhook_deliveries
          (id, webhook_id, execution_id, sequence, event_type, body, next_attempt_at, expires_at, created_at)
        select v.id, v.webhook_id, ${execution.id}::uuid, ${execution.lastSequence}::int, v.event_type, v.body,
          ${time}::timestamptz, ${expires}::timestamptz, ${time}::timestamptz
        from unnest(${pgArray(ids)}::uuid[], ${pgArray(webhookIds)}::uuid[], ${pgArray(types)}::text[],
          ${pgArray(bodies)}::text[]) as v(id, webhook_id, event_type, body)
        join webhooks w on w.id = v.webhook_id and w.disabled_at is null`,
    ];
  }
}
