import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const executionStatus = pgEnum('execution_status', [
  'PENDING',
  'RUNNING',
  'WAITING_FOR_INPUT',
  'INTERRUPTED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
]);
export const environment = pgEnum('environment', ['test', 'live']);
export const eventType = pgEnum('execution_event_type', [
  'STATUS_CHANGED',
  'PROGRESS',
  'STEP',
  'MESSAGE',
  'TAGS_CHANGED',
  'LOG',
]);
export const messageStatus = pgEnum('message_status', ['INITIATED', 'PROCESSING', 'COMPLETED', 'FAILED']);

/** Millisecond precision, so a cursor built from a JS Date matches the stored value exactly. */
const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const executions = pgTable(
  'executions',
  {
    id: uuid('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    environment: environment('environment').notNull(),
    workflowId: text('workflow_id').notNull(),
    workflowVersion: text('workflow_version'),
    status: executionStatus('status').notNull().default('PENDING'),
    progress: jsonb('progress'),
    inputs: jsonb('inputs'),
    output: jsonb('output'),
    metadata: jsonb('metadata'),
    resolvedVariables: jsonb('resolved_variables'),
    error: jsonb('error'),
    trigger: jsonb('trigger').notNull(),
    initiatedBy: text('initiated_by'),
    steps: jsonb('steps').notNull().default(sql`'[]'::jsonb`),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    timeoutSeconds: integer('timeout_seconds'),
    heartbeatTimeoutSeconds: integer('heartbeat_timeout_seconds'),
    /** createdAt + timeoutSeconds; the sweeper moves the execution to TIMED_OUT after it. */
    deadlineAt: ts('deadline_at'),
    /** last worker report + heartbeatTimeoutSeconds; the sweeper moves the execution to INTERRUPTED after it. */
    heartbeatDeadlineAt: ts('heartbeat_deadline_at'),
    totalMessages: integer('total_messages').notNull().default(0),
    completedMessages: integer('completed_messages').notNull().default(0),
    failedMessages: integer('failed_messages').notNull().default(0),
    inProgressMessages: integer('in_progress_messages').notNull().default(0),
    lastSequence: integer('last_sequence').notNull().default(0),
    /** `{key: value}` (API.md §8); filters are served by `execution_tags`, its copy kept by triggers. */
    tags: jsonb('tags').notNull().default(sql`'{}'::jsonb`),
    /** Lineage (API.md §8), set at creation and never changed, so the parent is always older: no cycle. */
    parentExecutionId: uuid('parent_execution_id'),
    /** The root of its tree: its own id when it has no parent. */
    rootExecutionId: uuid('root_execution_id').notNull(),
    /** 1 for a root, the parent's depth + 1 otherwise (at most 32). */
    depth: integer('depth').notNull().default(1),
    attempt: integer('attempt').notNull().default(1),
    retryOf: uuid('retry_of'),
    /** Kept by retention (API.md §10). */
    pinned: boolean('pinned').notNull().default(false),
    /** Bytes of worker log text stored (API.md §8); the text itself is in `execution_logs`, never in this row. */
    logBytes: bigint('log_bytes', { mode: 'number' }).notNull().default(0),
    /** Set once a LOG event was dropped at VIGIL_LOG_LIMIT_BYTES (one `vigil` WARN event says so). */
    logTruncated: boolean('log_truncated').notNull().default(false),
    createdAt: ts('created_at').notNull(),
    startedAt: ts('started_at'),
    completedAt: ts('completed_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('executions_tenant_created_idx').on(
      t.organizationId,
      t.environment,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('executions_workflow_idx').on(
      t.organizationId,
      t.environment,
      t.workflowId.op('text_pattern_ops'),
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('executions_parent_idx')
      .on(t.parentExecutionId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.parentExecutionId} is not null`),
    index('executions_root_idx').on(t.rootExecutionId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('executions_retry_of_idx').on(t.retryOf).where(sql`${t.retryOf} is not null`),
    uniqueIndex('executions_idempotency_idx')
      .on(t.organizationId, t.environment, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('executions_deadline_idx')
      .on(t.deadlineAt)
      .where(
        sql`${t.deadlineAt} is not null and ${t.status} in ('PENDING','RUNNING','WAITING_FOR_INPUT','INTERRUPTED')`,
      ),
    index('executions_heartbeat_idx')
      .on(t.heartbeatDeadlineAt)
      .where(sql`${t.heartbeatDeadlineAt} is not null and ${t.status} in ('PENDING','RUNNING','WAITING_FOR_INPUT')`),
    /** Retention (API.md §10): the due executions in completion order, and the oldest one kept (for /metrics). */
    index('executions_completed_idx')
      .on(t.completedAt, t.id)
      .where(sql`${t.completedAt} is not null and not ${t.pinned}`),
  ],
);

/**
 * The tag index (API.md §8): one row per tag of an execution, with the execution's tenant, creation time, status and
 * workflow copied. Written only by triggers on `executions` (drizzle/0005_tag_index.sql, 0013_tag_workflow.sql), in the statement that inserts the
 * execution or changes its tags or status, so it is never out of step and no writer has to remember it; the jsonb
 * column stays the execution's own record (reads, the change feed's match, webhooks, idempotency).
 * `execution_tags_pair_idx` serves a tag's first page as a range in `created_at desc, id desc` order that stops after
 * a page, and its counts by status as an index-only scan.
 */
export const executionTags = pgTable(
  'execution_tags',
  {
    executionId: uuid('execution_id').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    organizationId: text('organization_id').notNull(),
    environment: environment('environment').notNull(),
    createdAt: ts('created_at').notNull(),
    status: executionStatus('status').notNull(),
    /**
     * The execution's workflow, copied like its status, so that a tag filtered by workflow (or a workflow prefix) is
     * tested on the index entries and not on one execution row each. The default only lets migration 0013 add the
     * column to a filled table; the triggers write every row's.
     */
    workflowId: text('workflow_id').notNull().default(''),
  },
  // No primary key: the triggers find an execution's rows through this index (every column of it is known to them),
  // and a second index would cost every tagged write as much again. (execution_id, key) is unique because the
  // jsonb object's keys are.
  (t) => [
    index('execution_tags_pair_idx').on(
      t.organizationId,
      t.environment,
      t.key,
      t.value,
      t.createdAt.desc().nullsFirst(),
      t.executionId.desc().nullsFirst(),
      t.status,
      t.workflowId.op('text_pattern_ops'),
    ),
  ],
);

/**
 * The append-only log: one row per event, `sequence` gap-free per execution (1, 2, 3, …). No foreign key, for the
 * reason `executionLogs` has none (its check is a query per inserted row; every writer of events holds the
 * execution's row lock); a statement-level delete trigger takes the rows with their execution
 * (`drizzle/0011_ingest.sql`).
 *
 * Message lineage (API.md §2: a repeated report never counts twice) is read from the MESSAGE events themselves,
 * through `execution_events_message_idx`: a message's state is the fold of its reports in sequence order
 * (`record-rows.ts`). An index entry per MESSAGE event instead of a row of its own (the table `execution_messages`
 * until migration 0014): ingest of 100 MESSAGE events per call went from 1.61 to 1.46 and from 1.49 to 1.32 times
 * the floor's time in two A/B runs (README, Performance).
 */
export const executionEvents = pgTable(
  'execution_events',
  {
    executionId: uuid('execution_id').notNull(),
    sequence: integer('sequence').notNull(),
    type: eventType('type').notNull(),
    payload: jsonb('payload').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    recordedAt: ts('recorded_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.executionId, t.sequence] }),
    index('execution_events_message_idx')
      .on(t.executionId, sql`(${t.payload} ->> 'messageId')`)
      .where(sql`${t.type} = 'MESSAGE'`),
  ],
);

/**
 * LOG events (API.md §8), on the execution's one sequence but in their own table: a run with 100,000 lines leaves
 * `execution_events` (replays, catch-ups, the hub's reads of status and progress) as small as it was, and its
 * text never enters the execution row. A stream merges both tables by sequence (`domain/events.ts`).
 *
 * No foreign key: its check is a query per inserted line (a sixth of the insert's time), and a line is only ever
 * written by a worker batch that holds its execution's row lock (`domain/record.ts`), so the execution exists and
 * cannot go before the line commits. Deleting executions deletes their lines, as the cascade did: a statement-level
 * trigger (the hand-written end of `drizzle/0010_log_ingest.sql`).
 */
export const executionLogs = pgTable(
  'execution_logs',
  {
    executionId: uuid('execution_id').notNull(),
    sequence: integer('sequence').notNull(),
    stream: text('stream').notNull(),
    level: text('level'),
    text: text('text').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    recordedAt: ts('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.sequence] })],
);

/**
 * A worker's batch idempotency keys (`recordExecutionEvents(idempotencyKey:)`, the ingest endpoint's field): written
 * in the batch's transaction, scoped per execution and deleted with it. A replay of the same batch under its key
 * answers the first outcome (the events in `first_sequence..last_sequence`) and writes nothing. No foreign key, as
 * `executionEvents` (only a worker batch holding the row lock writes it): its cascade was a query per deleted
 * execution; a statement-level delete trigger takes the keys with their execution (`drizzle/0012_retention_keys.sql`).
 */
export const executionBatchKeys = pgTable(
  'execution_batch_keys',
  {
    executionId: uuid('execution_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** The sequences the batch appended: first..last (first = last + 1 when it appended none, a heartbeat). */
    firstSequence: integer('first_sequence').notNull(),
    lastSequence: integer('last_sequence').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.key] })],
);

/** PostgreSQL's 64-bit transaction id (`xid8`, never wraps); read and written as decimal text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * The change log behind `executionChanges` (API.md §9): one row per execution per statement that changed it, written
 * by a trigger on `executions` (hand-written in migration 0007) in the changing transaction, stamped with that
 * transaction's id. Positions are (xid, seq); ARCHITECTURE.md "The change log" says why a consumer that reads only
 * below the snapshot's xmin misses nothing.
 */
export const executionChanges = pgTable(
  'execution_changes',
  {
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    executionId: uuid('execution_id').notNull(),
    organizationId: text('organization_id').notNull(),
    environment: environment('environment').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.xid, t.seq] }),
    index('execution_changes_tenant_idx').on(t.organizationId, t.environment, t.xid, t.seq),
    /** Retention deletes an execution's changes with it (API.md §10). */
    index('execution_changes_execution_idx').on(t.executionId),
  ],
);

/** A frontier (`pg_snapshot_xmin`) and when it was seen: pruning maps the retention's cut-off time to a position. */
export const executionChangeMarks = pgTable('execution_change_marks', {
  frontier: xid8('frontier').primaryKey(),
  markedAt: ts('marked_at').notNull(),
});

/**
 * One row: the key cursors are signed with (random, made by the migration, shared by every instance) and the
 * horizon, the position up to which the log has been pruned (a cursor below it is expired).
 */
export const changeFeedState = pgTable('change_feed_state', {
  id: integer('id').primaryKey(),
  secret: text('secret').notNull(),
  horizonXid: xid8('horizon_xid').notNull().default(sql`'0'::xid8`),
  horizonSeq: bigint('horizon_seq', { mode: 'number' }).notNull().default(0),
});

export type ExecutionRow = typeof executions.$inferSelect;
export type EventRow = typeof executionEvents.$inferSelect;

/**
 * API keys (API.md §5). Only a keyed hash of the secret is stored; the secret is shown once, at creation.
 * `environments` and `scopes` are text arrays of 'test'|'live' and 'executions:read|write|admin'.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    name: text('name'),
    environments: text('environments').array().notNull(),
    scopes: text('scopes').array().notNull(),
    /** The first characters of the secret, to tell keys apart in lists. */
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: ts('created_at').notNull(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_secret_hash_idx').on(t.secretHash), index('api_keys_org_idx').on(t.organizationId)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Webhook endpoints of a tenant (API.md §7). */
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    environment: environment('environment').notNull(),
    url: text('url').notNull(),
    /** Subscribed event types: 'execution.terminal' | 'execution.status_changed' | 'execution.interrupted'. */
    events: text('events').array().notNull(),
    /** `{workflowId?, status?: ExecutionStatus[]}`, or null for every execution. */
    filter: jsonb('filter'),
    description: text('description'),
    /** The HMAC key. Kept as is because signing needs it; shown to the user once, at creation. */
    secret: text('secret').notNull(),
    createdAt: ts('created_at').notNull(),
    /** Set when the receiver answered 410 Gone: no new deliveries, none retried. */
    disabledAt: ts('disabled_at'),
    disabledReason: text('disabled_reason'),
  },
  (t) => [index('webhooks_tenant_idx').on(t.organizationId, t.environment)],
);

export const webhookDeliveryState = pgEnum('webhook_delivery_state', ['PENDING', 'SUCCEEDED', 'FAILED']);

/**
 * The outbox: one row per (status change, endpoint), written in the transaction of the change. A row is claimable
 * when PENDING, due, and no earlier PENDING row of the same endpoint and execution exists (ordering per execution).
 * A claim sets `lease_id` and moves `next_attempt_at` past the attempt's timeout, so an attempt cut short by a crash
 * is retried once the lease expires and no two attempts of a delivery are ever in flight.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    executionId: uuid('execution_id').notNull(),
    /** The execution's lastSequence after the change: the delivery order within (endpoint, execution). */
    sequence: integer('sequence').notNull(),
    eventType: text('event_type').notNull(),
    /** The exact bytes sent (and signed) on every attempt. */
    body: text('body').notNull(),
    state: webhookDeliveryState('state').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    leaseId: uuid('lease_id'),
    /** No retry is scheduled past this moment (creation + the retry horizon). */
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull(),
    completedAt: ts('completed_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'PENDING'`),
    index('webhook_deliveries_order_idx').on(t.webhookId, t.executionId, t.sequence).where(sql`${t.state} = 'PENDING'`),
    index('webhook_deliveries_list_idx').on(t.webhookId, t.id.desc()),
    /** Retention deletes an execution's deliveries (their attempts by cascade) with it (API.md §10). */
    index('webhook_deliveries_execution_idx').on(t.executionId),
  ],
);

/** Every attempt of a delivery: what the receiver answered, how long it took. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: ts('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    success: boolean('success').notNull(),
    error: text('error'),
    responseExcerpt: text('response_excerpt'),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
