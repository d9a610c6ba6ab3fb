import { count } from 'drizzle-orm';
import { executionEvents, executions } from '../../src/db/schema.js';
import type { TestServer } from './harness.js';

/** Row counts of the tables a bad request must not touch. */
export async function rowCounts(s: TestServer): Promise<{ executions: number; events: number }> {
  const [e] = await s.database.db.select({ n: count() }).from(executions);
  const [v] = await s.database.db.select({ n: count() }).from(executionEvents);
  return { executions: Number(e?.n ?? 0), events: Number(v?.n ?? 0) };
}
