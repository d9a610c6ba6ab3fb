/**
 * The floor of the delivery and wake figures (issue 22, item 3): what no server can beat on this machine — a bare
 * node:http + postgres.js handler that parses the JSON body, makes one durable commit (one INSERT, fsync and
 * synchronous_commit on, one round trip) and writes the SSE frame to the subscribers it holds in process, or answers
 * the waits it holds. It speaks just enough of the bench's requests (by operation name in the query) to be measured by
 * the same clients as Vigil and the stock peer: graphql-sse distinct mode at /graphql/stream, POST /graphql for the
 * rest, and `floor_open_waiters` at /metrics. `DATABASE_URL`, `PORT`; prints {"port": n}.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import postgres from 'postgres';
import { serveBare } from '../serve-bare.js';

const sql = postgres(process.env.DATABASE_URL ?? '', { max: 20, onnotice: () => {} });
await sql`create table if not exists floor_events (
  execution_id uuid not null, sequence int not null, payload jsonb not null, primary key (execution_id, sequence))`;
const streams = new Map<string, Set<ServerResponse>>();
const waits = new Map<string, Set<ServerResponse>>();
const sequences = new Map<string, number>();
let open = 0;

const json = (res: ServerResponse, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const hold = (map: Map<string, Set<ServerResponse>>, id: string, res: ServerResponse) => {
  const set = map.get(id) ?? new Set();
  map.set(id, set);
  set.add(res);
  res.once('close', () => set.delete(res));
};
/** One durable commit of the execution's next event; resolves with its sequence. */
const commit = async (id: string, payload: unknown) => {
  const sequence = (sequences.get(id) ?? 0) + 1;
  sequences.set(id, sequence);
  await sql`insert into floor_events (execution_id, sequence, payload) values (${id}, ${sequence}, ${sql.json(payload as never)})`;
  return sequence;
};

serveBare(sql, async (req, body, res) => {
  if (req.url === '/metrics') return void res.end(`floor_open_waiters ${open}\n`);
  const { query, variables } = JSON.parse(body.toString('utf8')) as {
    query: string;
    variables: { id: string; e?: unknown };
  };
  if (req.url === '/graphql/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
    res.write(':\n\n');
    return hold(streams, variables.id, res);
  }
  if (query.includes('createExecution')) return json(res, { data: { createExecution: { id: randomUUID() } } });
  if (query.includes('waitForExecution')) {
    open += 1;
    res.once('close', () => (open -= 1));
    return hold(waits, variables.id, res);
  }
  if (query.includes('recordExecutionEvents')) {
    const sequence = await commit(variables.id, variables.e);
    const frame = `event: next\ndata: ${JSON.stringify({ data: { executionEvents: { sequence } } })}\n\n`;
    for (const s of streams.get(variables.id) ?? []) s.write(frame);
    return json(res, { data: { recordExecutionEvents: { execution: { id: variables.id } } } });
  }
  if (query.includes('updateExecutionStatus')) {
    await commit(variables.id, { to: 'COMPLETED' });
    for (const w of waits.get(variables.id) ?? []) json(w, { data: { waitForExecution: { completed: true } } });
    waits.delete(variables.id);
    return json(res, { data: { updateExecutionStatus: { success: true } } });
  }
  res.writeHead(400);
  res.end();
});
