/** Runs the stock peer (`DATABASE_URL`, `PORT`); prints {"port": n} once listening, stops on SIGTERM. */
import { startStock } from './server.js';

const stock = await startStock(process.env.DATABASE_URL ?? '', Number(process.env.PORT ?? 0));
process.stdout.write(`${JSON.stringify({ port: Number(new URL(stock.url).port) })}\n`);
process.on('SIGTERM', () => {
  void stock.close().then(() => process.exit(0));
});
