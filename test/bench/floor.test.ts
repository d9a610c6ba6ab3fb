/**
 * The floor of the user bench (bench/user/floor.ts) must do the durable work Vigil does for each figure, or "within
 * 1.3× of the floor" compares Vigil with a server that does less: a batch of events stored as one row each, committed
 * before the answer; waits (GraphQL and REST seed 000) held and counted until the status change, then answered.
 * PostgreSQL only, run as the bench runs it (bundled, plain node).
 */
import { resolve } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Child, floorChild, rawPost } from '../../bench/user/http.js';
import { newDatabaseUrl } from '../support/harness.js';
import { freePort } from '../support/postgres.js';

let floor: Child;
let base: string;
let sql: postgres.Sql;
beforeAll(async () => {
  const databaseUrl = await newDatabaseUrl();
  sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  floor = await floorChild(resolve(import.meta.dirname, '../..'), {
    DATABASE_URL: databaseUrl,
    PORT: String(await freePort()),
  });
  base = `http://127.0.0.1:${(await floor.next<{ port: number }>('port', 60_000)).port}`;
});
afterAll(async () => {
  floor?.proc.kill('SIGTERM');
  await sql?.end();
});

const post = async (path: string, query: string, variables: Record<string, unknown>) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.text() };
};
const RECORD =
  'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { id } } }';

it('stores every event of a batch as its own row before it answers', async () => {
  const id = crypto.randomUUID();
  const e = [1, 2, 3].map((i) => ({ message: { messageId: `m-${i}`, status: 'INITIATED' } }));
  expect((await post('/graphql', RECORD, { id, e })).status).toBe(200);
  await post('/graphql', RECORD, { id, e: [{ progress: { percentage: 40 } }] });
  const rows = await sql`select sequence, type, payload from floor_events where execution_id = ${id} order by sequence`;
  expect(rows.map((r) => [r.sequence, r.type])).toEqual([
    [1, 'MESSAGE'],
    [2, 'MESSAGE'],
    [3, 'MESSAGE'],
    [4, 'PROGRESS'],
  ]);
  expect(rows[2]?.payload).toEqual({ messageId: 'm-3', status: 'INITIATED' });
});

it('holds GraphQL and REST waits until the status change, counted at /metrics', async () => {
  const id = crypto.randomUUID();
  const body = JSON.stringify({
    query: 'query($id: ID!) { waitForExecution(id: $id) { completed } }',
    variables: { id },
  });
  const waits = [rawPost(base, '/graphql', body), rawPost(base, `/api/v1/executions/${id}/wait`, '{"timeout":60}')];
  for (let i = 0; i < 100 && !(await (await fetch(`${base}/metrics`)).text()).includes('floor_open_waiters 2'); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await (await fetch(`${base}/metrics`)).text()).toBe('floor_open_waiters 2\n');
  await post('/graphql', 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }', {
    id,
  });
  for (const answer of await Promise.all(waits)) expect(answer.text).toContain('"completed":true');
  const [row] = await sql`select type from floor_events where execution_id = ${id}`;
  expect(row?.type).toBe('STATUS_CHANGED');
});
