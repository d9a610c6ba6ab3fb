import { sql } from 'drizzle-orm';
import {
  boolean,
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
export const eventType = pgEnum('execution_event_type', ['STATUS_CHANGED', 'PROGRESS', 'STEP', 'MESSAGE']);
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
  ],
);

/** The append-only log: one row per event, `sequence` gap-free per execution (1, 2, 3, …). */
export const executionEvents = pgTable(
  'execution_events',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.id, { onDelete: 'cascade' }),
    sequence: integer('sequence').notNull(),
    type: eventType('type').notNull(),
    payload: jsonb('payload').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    recordedAt: ts('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.sequence] })],
);

/** Message lineage: the last known status of each message, so repeated reports never count twice. */
export const executionMessages = pgTable(
  'execution_messages',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    status: messageStatus('status').notNull(),
    /** True once the message was counted in totalMessages. */
    counted: boolean('counted').notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.messageId] })],
);

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
