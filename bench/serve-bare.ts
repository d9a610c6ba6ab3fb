/**
 * What the bench's bare servers (bench/bare-server.ts, bench/user/floor.ts) share: read the whole body, call the
 * handler, answer 500 with the error's text when it throws; listen on `PORT` (0: any) on loopback and print
 * {"port": n}; on SIGTERM close every connection, the server and the pool, then exit.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type postgres from 'postgres';

export type BareHandler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => unknown;

export function serveBare(sql: postgres.Sql, handle: BareHandler): void {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        await handle(req, Buffer.concat(chunks), res);
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
    server.closeAllConnections();
    server.close();
    void sql.end({ timeout: 1 }).then(() => process.exit(0));
  });
}
