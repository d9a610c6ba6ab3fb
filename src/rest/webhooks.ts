import { createRoute, z } from '@hono/zod-openapi';
import type { WebhookAttemptRow } from '../db/schema.js';
import { tagList } from '../domain/inputs.js';
import { EXECUTION_STATUSES } from '../domain/types.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/inputs.js';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  type Webhook,
  type WebhookDelivery,
} from '../webhooks/manage.js';
import { webhooksOf } from '../webhooks/service.js';
import { readJson } from './body.js';
import type { RestApp, RestDeps } from './context.js';
import { bodyReadByHandler, errorResponses, jsonContent, SECURITY } from './schemas.js';

/**
 * The REST mirror of the webhook operations (API.md §7) under /api/v1/webhooks: parse, call the same functions as
 * GraphQL (src/webhooks/manage.ts), shape the reply. JSON is snake_case like the seed adapters; statuses and event
 * types are spelled as in GraphQL and in the webhook body.
 */
const WebhookJson = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    filter: z
      .object({
        workflow_id: z.string().nullable(),
        status: z.array(z.enum(EXECUTION_STATUSES)).nullable(),
        tags: z.array(z.object({ key: z.string(), value: z.string() })).nullable(),
      })
      .nullable(),
    description: z.string().nullable(),
    enabled: z.boolean().meta({ description: 'False once a receiver answered 410 Gone' }),
    disabled_at: z.iso.datetime().nullable(),
    disabled_reason: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

const AttemptJson = z
  .object({
    attempt: z.int(),
    started_at: z.iso.datetime(),
    duration_ms: z.number(),
    status_code: z.int().nullable(),
    success: z.boolean(),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable(),
  })
  .meta({ id: 'WebhookAttempt' });

const DeliveryJson = z
  .object({
    id: z.uuid().meta({ description: 'Also the body `id` and Vigil-Delivery-Id; stable across retries' }),
    webhook_id: z.uuid(),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    execution_id: z.uuid(),
    status: z.enum(['PENDING', 'SUCCEEDED', 'FAILED']),
    attempt_count: z.int(),
    next_attempt_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    completed_at: z.iso.datetime().nullable(),
    last_status_code: z.int().nullable(),
    last_error: z.string().nullable(),
    payload: z.unknown().meta({ description: 'The body sent' }),
    attempts: z.array(AttemptJson),
  })
  .meta({ id: 'WebhookDelivery' });

const CreateRequest = z
  .object({
    url: z.string().max(2048).meta({
      description: 'http(s); private, loopback and link-local targets are refused unless the operator allows them',
    }),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length),
    filter: z
      .object({
        workflow_id: z.string().min(1).max(200).nullish(),
        status: z.array(z.enum(EXECUTION_STATUSES)).min(1).max(8).nullish(),
        tags: tagList.nullish().meta({ description: 'Every given {key, value} must match' }),
      })
      .nullish()
      .meta({ description: 'Only executions that match (all given fields); status = the status moved to' }),
    description: z.string().max(500).nullish(),
  })
  .meta({ id: 'CreateWebhookRequest' });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function webhookJson(w: Webhook): z.infer<typeof WebhookJson> {
  const filter = w.filter as {
    workflowId: string | null;
    status: (typeof EXECUTION_STATUSES)[number][] | null;
    tags?: { key: string; value: string }[] | null;
  } | null;
  return {
    id: w.id,
    url: w.url,
    events: w.events as z.infer<typeof WebhookJson>['events'],
    filter: filter ? { workflow_id: filter.workflowId, status: filter.status, tags: filter.tags ?? null } : null,
    description: w.description,
    enabled: !w.disabledAt,
    disabled_at: iso(w.disabledAt),
    disabled_reason: w.disabledReason,
    created_at: w.createdAt.toISOString(),
  };
}

const attemptJson = (a: WebhookAttemptRow): z.infer<typeof AttemptJson> => ({
  attempt: a.attempt,
  started_at: a.startedAt.toISOString(),
  duration_ms: a.durationMs,
  status_code: a.statusCode,
  success: a.success,
  error: a.error,
  response_excerpt: a.responseExcerpt,
});

function deliveryJson(d: WebhookDelivery): z.infer<typeof DeliveryJson> {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    type: d.eventType as z.infer<typeof DeliveryJson>['type'],
    execution_id: d.executionId,
    status: d.state,
    attempt_count: d.attempts,
    next_attempt_at: d.state === 'PENDING' ? d.nextAttemptAt.toISOString() : null,
    created_at: d.createdAt.toISOString(),
    completed_at: iso(d.completedAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    payload: JSON.parse(d.body) as unknown,
    attempts: d.attemptLog.map(attemptJson),
  };
}

const TAGS = ['Webhooks'];
const WebhookId = z.object({ webhook_id: z.string().meta({ description: 'Webhook UUID' }) });

const routes = {
  create: createRoute({
    method: 'post',
    path: '/api/v1/webhooks',
    tags: TAGS,
    security: SECURITY,
    operationId: 'createWebhook',
    summary: 'Register a webhook: Vigil POSTs signed status changes to your URL',
    description: 'Needs executions:admin. The signing secret is in this response only.',
    request: { body: { content: { 'application/json': { schema: CreateRequest } }, required: true } },
    responses: {
      201: jsonContent(WebhookJson.extend({ secret: z.string() }), 'The webhook and its signing secret'),
      ...errorResponses(413, 422),
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/api/v1/webhooks',
    tags: TAGS,
    security: SECURITY,
    operationId: 'listWebhooks',
    summary: "List the caller's webhooks",
    responses: {
      200: jsonContent(z.object({ webhooks: z.array(WebhookJson) }), 'Oldest first'),
      ...errorResponses(422),
    },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/api/v1/webhooks/{webhook_id}',
    tags: TAGS,
    security: SECURITY,
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook with its deliveries',
    request: { params: WebhookId },
    responses: { 200: jsonContent(WebhookJson, 'What was deleted'), ...errorResponses(404, 422) },
  }),
  deliveries: createRoute({
    method: 'get',
    path: '/api/v1/webhooks/{webhook_id}/deliveries',
    tags: TAGS,
    security: SECURITY,
    operationId: 'listWebhookDeliveries',
    summary: 'List the deliveries of a webhook, newest first, with every attempt',
    request: {
      params: WebhookId,
      query: z.object({
        first: z.coerce.number().int().min(0).max(100).optional(),
        after: z.string().optional().meta({ description: 'next_cursor of the previous page' }),
      }),
    },
    responses: {
      200: jsonContent(
        z.object({ deliveries: z.array(DeliveryJson), has_more: z.boolean(), next_cursor: z.string().nullable() }),
        'A page of deliveries',
      ),
      ...errorResponses(404, 422),
    },
  }),
  redeliver: createRoute({
    method: 'post',
    path: '/api/v1/webhooks/deliveries/{delivery_id}/redeliver',
    tags: TAGS,
    security: SECURITY,
    operationId: 'redeliverWebhookDelivery',
    summary: 'Send a delivery again (same id and body, fresh signature)',
    request: { params: z.object({ delivery_id: z.string() }) },
    responses: { 202: jsonContent(DeliveryJson, 'The delivery, PENDING again'), ...errorResponses(404, 422) },
  }),
};

/** Registers the /api/v1/webhooks routes on the REST app (behind its authentication, with its error handling). */
export function registerWebhooks(app: RestApp, deps: RestDeps): void {
  const { db, domain } = deps;
  app.openapi(bodyReadByHandler(app, routes.create), async (c) => {
    const body = await readJson(c, CreateRequest, { limit: deps.bodyLimit });
    const filter = body.filter && {
      workflowId: body.filter.workflow_id,
      status: body.filter.status,
      tags: body.filter.tags,
    };
    const created = await createWebhook(db, webhooksOf(domain).settings, c.var.principal, { ...body, filter });
    return c.json({ ...webhookJson(created.webhook), secret: created.secret }, 201);
  });
  app.openapi(routes.list, async (c) =>
    c.json({ webhooks: (await listWebhooks(db, c.var.principal)).map(webhookJson) }, 200),
  );
  app.openapi(routes.remove, async (c) =>
    c.json(webhookJson(await deleteWebhook(db, c.var.principal, c.req.valid('param').webhook_id)), 200),
  );
  app.openapi(routes.deliveries, async (c) => {
    const page = await listDeliveries(db, c.var.principal, c.req.valid('param').webhook_id, c.req.valid('query'));
    return c.json(
      {
        deliveries: page.nodes.map(deliveryJson),
        has_more: page.hasNextPage,
        next_cursor: page.hasNextPage ? (page.cursors.at(-1) ?? null) : null,
      },
      200,
    );
  });
  app.openapi(routes.redeliver, async (c) => {
    const d = await redeliver(db, webhooksOf(domain).settings, c.var.principal, c.req.valid('param').delivery_id);
    return c.json(deliveryJson(d), 202);
  });
}
