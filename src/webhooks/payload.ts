import type { ExecutionStatus } from '../domain/types.js';
import type { WebhookEventType } from './inputs.js';

/**
 * The request body (API.md §7): `{id, type, createdAt, data: {execution, previousStatus}}`. `id` is the delivery id
 * (also `Vigil-Delivery-Id`), so receivers deduplicate on it; `previousStatus` is the status before the change.
 * Serialized once, when the delivery is written: every attempt sends (and signs) the same bytes.
 */
export function deliveryBody(
  deliveryId: string,
  type: WebhookEventType,
  at: Date,
  execution: string,
  previousStatus: ExecutionStatus,
): string {
  return `{"id":${JSON.stringify(deliveryId)},"type":${JSON.stringify(type)},"createdAt":${JSON.stringify(at.toISOString())},"data":{"execution":${execution},"previousStatus":${JSON.stringify(previousStatus)}}}`;
}
