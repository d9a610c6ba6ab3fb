import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { metric } from './support.js';

/** Due 3 s after completion; each instance looks every 200 ms, 10 trees a batch (so a pass has many batches). */
const ENV = {
  VIGIL_RETENTION_DAYS: String(3 / 86_400),
  VIGIL_RETENTION_INTERVAL_MS: '200',
  VIGIL_RETENTION_BATCH: '10',
};

/** A logger that keeps every line at warn or above. */
function capturing(lines: string[]) {
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'warn' }, stream);
}

const rowsOf = (result: unknown) =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];

/**
 * Every instance deletes (on PostgreSQL two servers share one database), each execution once, without a deadlock
 * or an error logged, while ingest on other executions goes on through every instance without a failed request.
 */
describe.each(DB_KINDS)('retention across instances, under ingest (%s)', (kind) => {
  const servers: TestServer[] = [];
  const logged: string[] = [];
  beforeAll(async () => {
    const first = await startTestServer(kind, { env: ENV, log: capturing(logged) });
    servers.push(first);
    if (kind === 'postgres') {
      servers.push(
        await startTestServer(kind, { env: ENV, log: capturing(logged), databaseUrl: first.databaseUrl as string }),
      );
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  const remaining = async (workflowId: string) =>
    Number(
      rowsOf(
        await servers[0]?.database.db.execute(
          sql`select count(*)::int as n from executions where workflow_id = ${workflowId}`,
        ),
      )[0]?.n,
    );

  it('deletes every due tree once while ingest on other executions never fails', { timeout: 120_000 }, async () => {
    const trees = 60;
    let created = 0;
    for (let i = 0; i < trees; i++) {
      const s = servers[i % servers.length] as TestServer;
      const { id } = await createExecution(s, { workflowId: 'fleet-due' });
      const { id: child } = await createExecution(s, { workflowId: 'fleet-due', parentExecutionId: id });
      ok(await record(s, child, [{ log: { text: 'x' } }, { statusChanged: { to: 'COMPLETED' } }]));
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      created += 2;
    }
    const failures: string[] = [];
    let requests = 0;
    let stop = false;
    const ingest = async (worker: number) => {
      while (!stop) {
        const s = servers[worker % servers.length] as TestServer;
        const { id } = await createExecution(s, { workflowId: 'fleet-ingest' });
        for (const event of [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 50 } }]) {
          const res = await record(s, id, [event]);
          requests++;
          if (res.status !== 200 || res.errors) failures.push(JSON.stringify(res.errors ?? res.status));
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, i) => ingest(i));
    const until = Date.now() + 60_000;
    while ((await remaining('fleet-due')) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(workers);

    expect(await remaining('fleet-due')).toBe(0);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(0);
    const deleted = await Promise.all(servers.map((s) => metric(s, 'vigil_retention_deleted_executions_total')));
    expect(deleted.reduce((a, b) => a + b, 0)).toBe(created); // each once: the instances' counts add up exactly
    const events = await Promise.all(servers.map((s) => metric(s, 'vigil_retention_deleted_events_total')));
    expect(events.reduce((a, b) => a + b, 0)).toBe(trees * 3);
    expect(await remaining('fleet-ingest')).toBeGreaterThan(0); // running executions are never due
    expect(logged).toEqual([]);
  });
});
