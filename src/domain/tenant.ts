import { and, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { executions } from '../db/schema.js';
import type { Principal } from './access.js';

/** Rows visible to the principal: its organization and environment only (API.md §5). */
export function tenantOf(principal: Principal): SQL {
  return tenantIs(principal.organizationId, principal.environment);
}

/** A tenant's rows, by values or by placeholders (lists build their statement once per shape: shapes.ts). */
export function tenantIs(org: string | SQLWrapper, env: string | SQLWrapper): SQL {
  return and(sql`${executions.organizationId} = ${org}`, sql`${executions.environment} = ${env}`) as SQL;
}
