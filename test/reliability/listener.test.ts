import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createExecution, newDatabaseUrl, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, subscribe } from '../support/subscribe.js';

describe('a lost LISTEN connection', () => {
  let url: string;
  let a: TestServer;
  let b: TestServer;
  let admin: postgres.Sql; // on the cluster's own database: a database cannot close its doors to itself
  let direct: postgres.Sql;
  beforeAll(async () => {
    url = await newDatabaseUrl();
    a = await startTestServer('postgres', { databaseUrl: url });
    b = await startTestServer('postgres', { databaseUrl: url });
    admin = postgres(inject('pgUrl'), { max: 1, onnotice: () => {} });
    direct = postgres(url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin`alter database ${admin(new URL(url).pathname.slice(1))} allow_connections true`.catch(() => {});
    await admin.end();
    await direct.end();
    await a.close();
    await b.close();
  });

  it('reports 503 on /readyz while it is down and loses no event, killed with pg_terminate_backend mid-stream', async () => {
    const dbName = new URL(url).pathname.slice(1);
    const { id } = await createExecution(b);
    const sub = subscribe<{ executionEvents: { sequence: number } }>(
      a.url,
      'graphql-sse-distinct',
      'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 60) { sequence } }',
      { id },
    );
    const all = collect(sub);
    await new Promise((r) => setTimeout(r, 200));

    let written = 0;
    let refused = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        // While connections are refused, the writer's pool may need a new one too: such a write fails (and is not
        // acknowledged, so nothing is owed for it); the point here is the listener.
        const r = await record(b, id, [{ progress: { percentage: written % 100 } }]);
        if (r.errors) refused++;
        else written++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));

    // Keep the listeners from coming back at once, then cut them off.
    await admin`alter database ${admin(dbName)} allow_connections false`;
    const killed = await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${dbName} and application_name = 'vigil-listener'`;
    expect(killed.length).toBe(2); // one listener per instance
    await expect.poll(async () => (await fetch(`${a.url}/readyz`)).status, { timeout: 5000, interval: 50 }).toBe(503);
    const down = (await (await fetch(`${a.url}/readyz`)).json()) as Record<string, string>;
    expect(down).toMatchObject({ status: 'unavailable', changeFeed: 'down' });
    await new Promise((r) => setTimeout(r, 700)); // events keep being written while nobody listens

    await admin`alter database ${admin(dbName)} allow_connections true`;
    await expect.poll(async () => (await fetch(`${a.url}/readyz`)).status, { timeout: 10_000, interval: 50 }).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await writer;
    ok(await record(b, id, [{ statusChanged: { to: 'COMPLETED' } }]));

    const seen = (await all).map((r) => r.data?.executionEvents.sequence);
    const stored = ok(
      await a.gql<{ execution: { lastSequence: number } }>('query($id: ID!) { execution(id: $id) { lastSequence } }', {
        id,
      }),
    );
    expect(written).toBeGreaterThan(10);
    expect(stored.execution.lastSequence).toBeGreaterThanOrEqual(written + 1); // every acknowledged write is stored
    expect(seen).toEqual(Array.from({ length: stored.execution.lastSequence }, (_, i) => i + 1));
    expect(a.feed.transport.reconnects).toBeGreaterThanOrEqual(1);
    console.log(
      `listener killed mid-stream: ${written + 1} events written, ${seen.length} delivered, 0 lost, ` +
        `${a.feed.transport.reconnects} reconnect(s), ${refused} writes refused during the outage`,
    );
  });

  it('lets the periodic re-check wake a waiter whose notification never came', async () => {
    const s = await startTestServer('postgres', { databaseUrl: url, env: { VIGIL_RECHECK_INTERVAL_MS: '300' } });
    try {
      const { id } = await createExecution(s);
      const wait = s.gql<{ waitForExecution: { completed: boolean } }>(
        'query($id: ID!) { waitForExecution(id: $id, timeout: 10) { completed } }',
        { id },
      );
      await new Promise((r) => setTimeout(r, 200));
      // A change no NOTIFY announces (as if it were lost): written straight to the database.
      await direct.begin(async (tx) => {
        const [row] =
          await tx`update executions set status = 'CANCELLED', completed_at = now(), last_sequence = last_sequence + 1
          where id = ${id} returning last_sequence`;
        await tx`insert into execution_events (execution_id, sequence, type, payload, occurred_at, recorded_at)
          values (${id}, ${row?.last_sequence}, 'STATUS_CHANGED', ${tx.json({ from: 'PENDING', to: 'CANCELLED' })}, now(), now())`;
      });
      const started = Date.now();
      expect(ok(await wait).waitForExecution.completed).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await s.close();
    }
  });
});
