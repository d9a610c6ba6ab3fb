import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMessage, type Counters, type MessageState } from '../../src/domain/batch.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';
import { gqlAt, spawnVigil, type VigilProcess } from '../support/process.js';

const gql = gqlAt;

const RECORD = `mutation($id: ID!, $events: [ExecutionEventInput!]!) {
  recordExecutionEvents(executionId: $id, events: $events) { events { sequence } } }`;
const READ = `query($id: ID!, $after: Int) { execution(id: $id) {
  lastSequence stats { totalMessages completedMessages failedMessages inProgressMessages }
  events(after: $after, first: 500) { sequence type ... on MessageEvent { messageId status } } } }`;
type Read = {
  execution: {
    lastSequence: number;
    stats: Counters;
    events: { sequence: number; type: string; messageId?: string; status?: string }[];
  };
};

describe('kill -9 during sustained ingest', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(DB_KINDS)('loses no acknowledged event on %s: present, gap-free, stats equal to the events', async (kind) => {
    let env: Record<string, string>;
    if (kind === 'postgres') env = { DATABASE_URL: await newDatabaseUrl() };
    else {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
      dirs.push(dir);
      env = { VIGIL_DATA_DIR: dir };
    }
    let server: VigilProcess = await spawnVigil(env);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = await gql<{ createExecution: { id: string } }>(
        server.url,
        'mutation { createExecution(input: {workflowId: "crash"}) { id } }',
      );
      ids.push(d.createExecution.id);
    }
    const acked = new Map<string, number[]>(ids.map((id) => [id, []]));
    let running = true;
    let failures = 0;
    const clients = ids.map(async (id, c) => {
      for (let n = 0; running; n++) {
        const m = `m-${c}-${n}`;
        const events = [
          { message: { messageId: m, status: 'INITIATED' } },
          { message: { messageId: m, status: n % 5 === 0 ? 'FAILED' : 'COMPLETED' } },
          { message: { messageId: `late-${c}-${n}`, status: 'INITIATED' } },
          { progress: { percentage: n % 100 } },
        ];
        try {
          const d = await gql<{ recordExecutionEvents: { events: { sequence: number }[] } }>(server.url, RECORD, {
            id,
            events,
          });
          acked.get(id)?.push(...d.recordExecutionEvents.events.map((e) => e.sequence));
        } catch {
          failures++; // in flight when the process died: not acknowledged
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    server.child.kill('SIGKILL');
    running = false;
    await Promise.all(clients);
    await server.stop();

    server = await spawnVigil(env);
    try {
      let ackedTotal = 0;
      for (const id of ids) {
        const events: Read['execution']['events'] = [];
        let execution: Read['execution'] | undefined;
        for (let after = 0; ; ) {
          execution = (await gql<Read>(server.url, READ, { id, after })).execution;
          events.push(...execution.events);
          if (execution.events.length < 500) break;
          after = events.at(-1)?.sequence ?? after;
        }
        if (!execution) throw new Error('no execution');
        const sequences = events.map((e) => e.sequence);
        expect(sequences).toEqual(Array.from({ length: execution.lastSequence }, (_, i) => i + 1));
        const stored = new Set(sequences);
        const mine = acked.get(id) ?? [];
        ackedTotal += mine.length;
        expect(mine.filter((s) => !stored.has(s))).toEqual([]);
        const counters: Counters = { totalMessages: 0, completedMessages: 0, failedMessages: 0, inProgressMessages: 0 };
        const lineage = new Map<string, MessageState>();
        for (const e of events) {
          if (e.type !== 'MESSAGE' || !e.messageId) continue;
          const next = applyMessage(lineage.get(e.messageId), e.status as MessageState['status'], counters);
          if (next) lineage.set(e.messageId, next);
        }
        expect(execution.stats).toEqual(counters);
      }
      console.log(
        `kill -9 on ${kind}: ${ackedTotal} acknowledged events, all present after restart (0 lost); ${failures} in-flight requests failed`,
      );
      expect(ackedTotal).toBeGreaterThan(100);
    } finally {
      await server.stop();
    }
  });
});
