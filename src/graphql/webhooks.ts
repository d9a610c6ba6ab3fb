import type { WebhookAttemptRow } from '../db/schema.js';
import type { Tag } from '../domain/tags.js';
import type { ExecutionStatus } from '../domain/types.js';
import {
  createWebhook,
  type DeliveryPage,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  type Webhook,
  type WebhookDelivery,
} from '../webhooks/manage.js';
import { webhooksOf } from '../webhooks/service.js';
import { builder } from './builder.js';
import { ExecutionStatusEnum } from './enums.js';
import { PageInfoRef } from './execution.js';
import { TagInput, TagRef } from './tags.js';

const EVENT_TYPES_DOC = '`execution.terminal`, `execution.status_changed`, `execution.interrupted`';

interface Filter {
  workflowId: string | null;
  status: ExecutionStatus[] | null;
  /** Absent on endpoints created before tags existed. */
  tags?: Tag[] | null;
}

const WebhookFilterRef = builder.objectRef<Filter>('WebhookFilter').implement({
  fields: (t) => ({
    workflowId: t.exposeString('workflowId', { nullable: true }),
    status: t.field({ type: [ExecutionStatusEnum], nullable: true, resolve: (f) => f.status }),
    tags: t.field({ type: [TagRef], nullable: true, resolve: (f) => f.tags ?? null }),
  }),
});

const WebhookRef = builder.objectRef<Webhook>('Webhook').implement({
  description: 'An endpoint that receives signed POSTs when executions change (API.md §7)',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.exposeStringList('events', { description: `Subscribed event types: ${EVENT_TYPES_DOC}` }),
    filter: t.field({ type: WebhookFilterRef, nullable: true, resolve: (w) => w.filter as Filter | null }),
    description: t.exposeString('description', { nullable: true }),
    enabled: t.boolean({ description: 'False once a receiver answered 410 Gone', resolve: (w) => !w.disabledAt }),
    disabledAt: t.field({ type: 'DateTime', nullable: true, resolve: (w) => w.disabledAt }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.createdAt }),
  }),
});

const WebhookAttemptRef = builder.objectRef<WebhookAttemptRow>('WebhookAttempt').implement({
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    startedAt: t.field({ type: 'DateTime', resolve: (a) => a.startedAt }),
    durationMs: t.exposeFloat('durationMs'),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'Null when no response came' }),
    success: t.exposeBoolean('success'),
    error: t.exposeString('error', { nullable: true }),
    responseExcerpt: t.exposeString('responseExcerpt', {
      nullable: true,
      description: 'The first 1 KiB of the response body',
    }),
  }),
});

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: {
    PENDING: { description: 'Not yet delivered: due, waiting out a backoff, or being attempted' },
    SUCCEEDED: { description: 'The receiver answered 2xx' },
    FAILED: { description: 'Abandoned at the retry horizon, or the endpoint was disabled (410)' },
  } as const,
});

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Also the body `id` and the Vigil-Delivery-Id header; stable across retries' }),
    webhookId: t.exposeID('webhookId'),
    type: t.exposeString('eventType', { description: EVENT_TYPES_DOC }),
    executionId: t.exposeID('executionId'),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.state }),
    attemptCount: t.exposeInt('attempts'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'While PENDING: when the next attempt is due (or when the one in flight times out)',
      resolve: (d) => (d.state === 'PENDING' ? d.nextAttemptAt : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.completedAt }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    payload: t.field({ type: 'JSON', description: 'The body sent', resolve: (d) => JSON.parse(d.body) as unknown }),
    attempts: t.field({
      type: [WebhookAttemptRef],
      description: 'Every attempt, oldest first',
      resolve: (d) => d.attemptLog,
    }),
  }),
});

const DeliveryEdgeRef = builder.objectRef<{ cursor: string; node: WebhookDelivery }>('WebhookDeliveryEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.field({ type: WebhookDeliveryRef, resolve: (e) => e.node }),
  }),
});

const DeliveryConnectionRef = builder.objectRef<DeliveryPage>('WebhookDeliveryConnection').implement({
  fields: (t) => ({
    edges: t.field({
      type: [DeliveryEdgeRef],
      resolve: (p) => p.nodes.map((node, i) => ({ node, cursor: p.cursors[i] ?? '' })),
    }),
    nodes: t.field({ type: [WebhookDeliveryRef], resolve: (p) => p.nodes }),
    pageInfo: t.field({
      type: PageInfoRef,
      resolve: (p) => ({ hasNextPage: p.hasNextPage, endCursor: p.cursors.at(-1) ?? null }),
    }),
  }),
});

const CreateWebhookResultRef = builder
  .objectRef<{ webhook: Webhook; secret: string }>('CreateWebhookResult')
  .implement({
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, resolve: (r) => r.webhook }),
      secret: t.exposeString('secret', {
        description: 'The signing secret (HMAC-SHA256 key of Vigil-Signature). Shown here only: store it now',
      }),
    }),
  });

const WebhookFilterInput = builder.inputType('WebhookFilterInput', {
  fields: (t) => ({
    workflowId: t.string(),
    status: t.field({ type: [ExecutionStatusEnum], description: 'The status the execution moved to' }),
    tags: t.field({ type: [TagInput], description: 'Every given pair must match (as ExecutionFilter.tags)' }),
  }),
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'http(s); private, loopback and link-local targets are refused unless the operator allows them',
    }),
    events: t.stringList({ required: true, description: EVENT_TYPES_DOC }),
    filter: t.field({ type: WebhookFilterInput, description: 'Only executions that match (all given fields)' }),
    description: t.string(),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    description: "The caller's webhooks (organization and environment); needs executions:admin",
    resolve: (_r, _a, ctx) => listWebhooks(ctx.db, ctx.principal),
  }),
  webhookDeliveries: t.field({
    type: DeliveryConnectionRef,
    description: 'Deliveries of a webhook, newest first, with every attempt; needs executions:admin',
    args: { webhookId: t.arg.id({ required: true }), first: t.arg.int({ defaultValue: 20 }), after: t.arg.string() },
    resolve: (_r, args, ctx) => listDeliveries(ctx.db, ctx.principal, String(args.webhookId), args),
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookResultRef,
    description: 'Registers an endpoint; the signing secret is returned once. Needs executions:admin',
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_r, args, ctx) => createWebhook(ctx.db, webhooksOf(ctx.domain).settings, ctx.principal, args.input),
  }),
  deleteWebhook: t.field({
    type: WebhookRef,
    description: 'Deletes the endpoint, its pending deliveries and their log; returns what was deleted',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => deleteWebhook(ctx.db, ctx.principal, String(args.id)),
  }),
  redeliverWebhook: t.field({
    type: WebhookDeliveryRef,
    description: 'Sends a delivery again (same id and body, fresh signature)',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) =>
      redeliver(ctx.db, webhooksOf(ctx.domain).settings, ctx.principal, String(args.deliveryId)),
  }),
}));
