/**
 * The floor of the user figures (issue 22, item 3): what no server can beat on this machine — a bare node:http +
 * postgres.js handler that parses the JSON body and does the same durable work as Vigil for each figure, nothing
 * more: a batch of events is one INSERT of one row per event (the columns of execution_events) committed on its own
 * (fsync and synchronous_commit on, one round trip), then the SSE frame to the subscribers it holds in process or the
 * answers to the waits it holds. A subscription is a response with its headers sent, held; a wait (GraphQL
 * `waitForExecution` or REST seed 000's `/api/v1/executions/{id}/wait`) a request whose answer is held. It speaks
 * just enough of the bench's requests (by operation name in the query) to be measured by the same clients as Vigil
 * and the stock peer: graphql-sse distinct mode at /graphql/stream, POST /graphql for the rest, and
 * `floor_open_waiters` at /metrics. `DATABASE_URL`, `PORT`; prints {"port": n}. The bench runs it bundled by plain
 * node (`floorArgs`), as Vigil runs from dist/, so no loader's own per-request state is counted in its memory.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import postgres from 'postgres';
import { serveBare } from '../serve-bare.js';

// One connection per concurrent client of the ingest figure (c=32): no call queues for a connection, so concurrent
// commits reach PostgreSQL together and share its WAL flushes, as any handler's would.
const sql = postgres(process.env.DATABASE_URL ?? '', { max: 32, onnotice: () => {} });
await sql`create table if not exists floor_events (
  execution_id uuid not null, sequence int not null, type text not null, payload jsonb not null,
  occurred_at timestamptz not null, recorded_at timestamptz not null, primary key (execution_id, sequence))`;
const streams = new Map<string, Set<ServerResponse>>();
const waits = new Map<string, Set<ServerResponse>>();
const sequences = new Map<string, number>();
let open = 0;
const REST_WAIT = /^\/api\/v1\/executions\/([^/]+)\/wait$/;

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
const holdWait = (id: string, res: ServerResponse) => {
  open += 1;
  res.once('close', () => (open -= 1));
  hold(waits, id, res);
};
/** The event's type and payload as execution_events stores them: `{message: {...}}` is a MESSAGE with that payload. */
const row = (id: string, sequence: number, event: Record<string, unknown>, at: Date) => {
  const [type, payload] = Object.entries(event)[0] as [string, unknown];
  const name = type.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return { execution_id: id, sequence, type: name, payload, occurred_at: at, recorded_at: at };
};
/** One durable commit of the execution's next events (one INSERT, one row each); resolves with the last sequence. */
const commit = async (id: string, events: Record<string, unknown>[]) => {
  if (events.length === 0) throw new Error('the floor records batches of one event or more');
  const first = (sequences.get(id) ?? 0) + 1;
  sequences.set(id, first + events.length - 1);
  const at = new Date();
  await sql`insert into floor_events ${sql(events.map((e, i) => row(id, first + i, e, at)) as never)}`;
  return first + events.length - 1;
};

serveBare(sql, async (req, body, res) => {
  if (req.url === '/metrics') return void res.end(`floor_open_waiters ${open}\n`);
  const rest = REST_WAIT.exec(req.url ?? '');
  if (rest) return holdWait(rest[1] as string, res);
  const { query, variables } = JSON.parse(body.toString('utf8')) as {
    query: string;
    variables: { id: string; e?: Record<string, unknown>[] };
  };
  if (req.url === '/graphql/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
    res.write(':\n\n');
    return hold(streams, variables.id, res);
  }
  if (query.includes('createExecution')) return json(res, { data: { createExecution: { id: randomUUID() } } });
  if (query.includes('waitForExecution')) return holdWait(variables.id, res);
  if (query.includes('recordExecutionEvents')) {
    const sequence = await commit(variables.id, variables.e ?? []);
    const frame = `event: next\ndata: ${JSON.stringify({ data: { executionEvents: { sequence } } })}\n\n`;
    for (const s of streams.get(variables.id) ?? []) s.write(frame);
    return json(res, { data: { recordExecutionEvents: { execution: { id: variables.id } } } });
  }
  if (query.includes('updateExecutionStatus')) {
    await commit(variables.id, [{ statusChanged: { to: 'COMPLETED' } }]);
    for (const w of waits.get(variables.id) ?? []) json(w, { data: { waitForExecution: { completed: true } } });
    waits.delete(variables.id);
    return json(res, { data: { updateExecutionStatus: { success: true } } });
  }
  res.writeHead(400);
  res.end();
});
