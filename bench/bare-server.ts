/**
 * The floor of the read figures: a bare node:http + postgres.js handler doing what `execution(id)` does underneath —
 * parse the JSON body, one primary-key read (same pool size as Vigil), a JSON reply of the same fields.
 * `FIELDS=internal` (default; graphql_read_ratio of `npm run bench`): id, status, workflowId, createdAt, as
 * `application/json`. `FIELDS=user` (the user-felt read, bench/user/measure.ts): those and progress and stats, as
 * `application/graphql-response+json`, what a GraphQL-over-HTTP client asking for it gets.
 */
import postgres from 'postgres';
import { serveBare } from './serve-bare.js';

const user = process.env.FIELDS === 'user';
if (!user && (process.env.FIELDS ?? 'internal') !== 'internal') throw new Error('FIELDS is user or internal');
const contentType = user ? 'application/graphql-response+json; charset=utf-8' : 'application/json; charset=utf-8';

const sql = postgres(process.env.DATABASE_URL ?? '', { max: 20 });

function execution(row: postgres.Row) {
  const base = {
    id: row.id,
    status: row.status,
    workflowId: row.workflow_id,
    createdAt: (row.created_at as Date).toISOString(),
  };
  if (!user) return base;
  const done = Number(row.completed_messages ?? 0);
  const failed = Number(row.failed_messages ?? 0);
  return {
    ...base,
    progress: row.progress ? { step: row.progress.step ?? null, percentage: row.progress.percentage } : null,
    stats: {
      totalMessages: row.total_messages,
      completedMessages: done,
      failedMessages: failed,
      inProgressMessages: row.in_progress_messages,
      successRate: done + failed === 0 ? 0 : done / (done + failed),
    },
  };
}

serveBare(sql, async (_req, body, res) => {
  const { variables } = JSON.parse(body.toString('utf8')) as { variables: { id: string } };
  const [row] = await sql`select * from executions where id = ${variables.id}`;
  const text = JSON.stringify({ data: { execution: row ? execution(row) : null } });
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
});
