import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { finished, metric } from './support.js';

const PIN = `mutation($id: ID!, $pinned: Boolean!) { setExecutionPinned(id: $id, pinned: $pinned) { pinned } }`;
const RETENTION = `{ retention { days oldestExecutionAt } }`;

/** /metrics (API.md §10) and what the dashboard reads: the oldest terminal execution's age, table sizes, the period. */
describe.each(DB_KINDS)('retention metrics (%s)', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_RETENTION_DAYS: '7.5' } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('ages the oldest terminal execution that is not pinned, and reports 0 when there is none', async () => {
    expect(await metric(s, 'vigil_oldest_terminal_execution_age_seconds')).toBe(0);
    const e = await finished(s, { workflowId: 'metrics-age' });
    await new Promise((r) => setTimeout(r, 1200));
    const age = await metric(s, 'vigil_oldest_terminal_execution_age_seconds');
    expect(age).toBeGreaterThanOrEqual(1);
    expect(age).toBeLessThan(30);
    ok(await s.gql(PIN, { id: e.id, pinned: true }));
    expect(await metric(s, 'vigil_oldest_terminal_execution_age_seconds')).toBe(0);
    ok(await s.gql(PIN, { id: e.id, pinned: false }));
    expect(await metric(s, 'vigil_oldest_terminal_execution_age_seconds')).toBeGreaterThanOrEqual(1);
  });

  it('reports the bytes of every table, and the deletion counters from 0', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const tables = [...text.matchAll(/^vigil_table_bytes\{table="([a-z_]+)"\} (\d+)$/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    const names = tables.map(([t]) => t);
    for (const t of ['executions', 'execution_events', 'execution_logs', 'execution_changes', 'webhook_deliveries']) {
      expect(names).toContain(t);
    }
    expect(Object.fromEntries(tables).executions).toBeGreaterThan(0);
    expect(text).toMatch(/^vigil_retention_deleted_executions_total 0$/m);
    expect(text).toMatch(/^vigil_retention_deleted_events_total 0$/m);
  });

  it("tells a client the period and when the tenant's oldest execution was created", async () => {
    const { retention } = ok(await s.gql<{ retention: { days: number; oldestExecutionAt: string } }>(RETENTION));
    expect(retention.days).toBe(7.5);
    const other = ok(
      await s.gql<{ retention: { oldestExecutionAt: string | null } }>(RETENTION, {}, { 'x-environment': 'live' }),
    );
    expect(other.retention.oldestExecutionAt).toBeNull();
    expect(Date.parse(retention.oldestExecutionAt)).toBeLessThanOrEqual(Date.now());
  });
});
