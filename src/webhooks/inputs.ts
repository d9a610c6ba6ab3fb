import { z } from 'zod';
import { tagList } from '../domain/inputs.js';
import { hasTags } from '../domain/tags.js';
import { EXECUTION_STATUSES, type Execution, type ExecutionStatus, isTerminal } from '../domain/types.js';

export const WEBHOOK_EVENT_TYPES = ['execution.terminal', 'execution.status_changed', 'execution.interrupted'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Endpoints per organization and environment: each one is a row written in every matching status change. */
export const MAX_WEBHOOKS_PER_TENANT = 25;

const webhookUrl = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http or https URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: 'must use http or https' });
    if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'must not carry credentials (they would show in every listing)' });
    if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a fragment' });
  });

export const webhookFilterInput = z.strictObject({
  workflowId: z.string().min(1).max(200).nullish(),
  status: z.array(z.enum(EXECUTION_STATUSES)).min(1).max(8).nullish(),
  /** As ExecutionFilter.tags (API.md §8): every given pair must match. */
  tags: tagList.nullish(),
});
export type WebhookFilter = z.infer<typeof webhookFilterInput>;

export const createWebhookInput = z.strictObject({
  url: webhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .transform((events) => [...new Set(events)]),
  filter: webhookFilterInput.nullish(),
  description: z.string().max(500).nullish(),
});

/**
 * The one event type a status change is delivered as to an endpoint: the most specific one it subscribed to
 * (terminal, then interrupted, then status_changed), or null when it subscribed to none that applies. One change
 * is one delivery per endpoint, never two.
 */
export function eventTypeFor(events: readonly string[], to: ExecutionStatus): WebhookEventType | null {
  if (isTerminal(to) && events.includes('execution.terminal')) return 'execution.terminal';
  if (to === 'INTERRUPTED' && events.includes('execution.interrupted')) return 'execution.interrupted';
  return events.includes('execution.status_changed') ? 'execution.status_changed' : null;
}

export function matchesWebhookFilter(filter: WebhookFilter | null, e: Execution): boolean {
  if (!filter) return true;
  if (filter.workflowId && filter.workflowId !== e.workflowId) return false;
  if (filter.status?.length && !filter.status.includes(e.status)) return false;
  if (!hasTags(e, filter.tags)) return false;
  return true;
}
