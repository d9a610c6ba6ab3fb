/**
 * The floor of the read figure: a bare node:http + postgres.js handler doing what `execution(id)` with progress and
 * stats does underneath — parse the JSON body, one primary-key read (same pool size as Vigil), a JSON reply of the
 * same fields.
 */
import { createServer } from 'node:http';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL ?? '', { max: 20 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const { variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { id: string } };
      const [row] = await sql`select * from executions where id = ${variables.id}`;
      const done = Number(row?.completed_messages ?? 0);
      const failed = Number(row?.failed_messages ?? 0);
      const body = JSON.stringify({
        data: {
          execution: row
            ? {
                id: row.id,
                status: row.status,
                workflowId: row.workflow_id,
                createdAt: (row.created_at as Date).toISOString(),
                progress: row.progress
                  ? { step: row.progress.step ?? null, percentage: row.progress.percentage }
                  : null,
                stats: {
                  totalMessages: row.total_messages,
                  completedMessages: done,
                  failedMessages: failed,
                  inProgressMessages: row.in_progress_messages,
                  successRate: done + failed === 0 ? 0 : done / (done + failed),
                },
              }
            : null,
        },
      });
      res.writeHead(200, {
        'content-type': 'application/graphql-response+json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void sql.end({ timeout: 1 }).then(() => process.exit(0));
});
