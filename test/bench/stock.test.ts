/**
 * The stock peer of the user-facing bench (bench/stock/) must be correct, or its figures compare Vigil with a
 * server that does less: one create → subscribe (graphql-sse, distinct connections) → record → wait round trip.
 * PostgreSQL only: the peer is LISTEN/NOTIFY over postgres.js, as a user would write it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStock } from '../../bench/stock/server.js';
import { newDatabaseUrl } from '../support/harness.js';
import { subscribe } from '../support/subscribe.js';

let stock: Awaited<ReturnType<typeof startStock>>;
beforeAll(async () => {
  stock = await startStock(await newDatabaseUrl());
});
afterAll(() => stock?.close());

async function gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${stock.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

it('delivers recorded events to a subscriber and releases a wait at completion', async () => {
  const { createExecution } = await gql<{ createExecution: { id: string } }>(
    'mutation { createExecution(input: {workflowId: "smoke"}) { id status } }',
    {},
  );
  const id = createExecution.id;
  const sub = subscribe<{ executionEvents: { sequence: number; type: string } }>(
    stock.url,
    'graphql-sse-distinct',
    'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 20) { sequence type } }',
    { id },
  );
  const received = (async () => {
    const seen: { sequence: number; type: string }[] = [];
    for await (const r of sub.results) if (r.data) seen.push(r.data.executionEvents);
    return seen;
  })();
  const waited = gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(
    'query($id: ID!) { waitForExecution(id: $id, timeout: 20) { completed execution { status } } }',
    { id },
  );
  await new Promise((r) => setTimeout(r, 300));
  await gql(
    'mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { id } } }',
    { id, e: [{ message: { messageId: 'm-1', status: 'INITIATED' } }, { progress: { percentage: 40, step: 'load' } }] },
  );
  const done = await gql<{ updateExecutionStatus: { success: boolean } }>(
    'mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }',
    { id },
  );
  expect(done.updateExecutionStatus.success).toBe(true);
  expect((await waited).waitForExecution).toEqual({ completed: true, execution: { status: 'COMPLETED' } });
  expect(await received).toEqual([
    { sequence: 1, type: 'MESSAGE' },
    { sequence: 2, type: 'PROGRESS' },
    { sequence: 3, type: 'STATUS_CHANGED' },
  ]);
  const { execution } = await gql<{ execution: Record<string, unknown> }>(
    'query($id: ID!) { execution(id: $id) { status progress { step percentage } stats { totalMessages inProgressMessages } } }',
    { id },
  );
  expect(execution).toEqual({
    status: 'COMPLETED',
    progress: { step: 'load', percentage: 40 },
    stats: { totalMessages: 1, inProgressMessages: 1 },
  });
  await sub.close();
});
