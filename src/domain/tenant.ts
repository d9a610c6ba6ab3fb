import { and, eq } from 'drizzle-orm';
import { executions } from '../db/schema.js';
import type { Principal } from './access.js';

/** Rows visible to the principal: its organization and environment only (API.md §5). */
export function tenantOf(principal: Principal) {
  return and(
    eq(executions.organizationId, principal.organizationId),
    eq(executions.environment, principal.environment),
  );
}
