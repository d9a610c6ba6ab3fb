/**
 * The baseline of graphql_read_ratio: a bare node:http handler doing what `execution(id)` does underneath — parse
 * the JSON body, one primary-key read through postgres.js (same pool size as Vigil), a JSON reply of the same fields.
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
      const body = JSON.stringify({
        data: {
          execution: row
            ? {
                id: row.id,
                status: row.status,
                workflowId: row.workflow_id,
                createdAt: (row.created_at as Date).toISOString(),
              }
            : null,
        },
      });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
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
