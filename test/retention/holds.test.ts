import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { collect, subscribe } from '../support/subscribe.js';
import { eventually } from '../webhooks/support.js';
import { finished, kept, read, running } from './support.js';

/** Due 1 s after completion; the job looks every 200 ms. */
const ENV = {
  VIGIL_RETENTION_DAYS: String(1 / 86_400),
  VIGIL_RETENTION_INTERVAL_MS: '200',
  VIGIL_RETENTION_BATCH: '10',
};
const WAIT = `query($id: ID!) { waitForExecution(id: $id, timeout: 30) { completed execution { status } } }`;
const STREAM = `subscription($id: ID!) { executionEvents(executionId: $id, timeout: 30) { sequence type } }`;

/**
 * A wait or a stream can only be held on an execution that is not terminal (on a terminal one a wait answers at once
 * and a stream replays and completes), and a non-terminal member keeps its whole tree (API.md §10): so the job,
 * running all along, can delete neither the held execution nor anything of its tree. The holds stay, get what they
 * wait for, and nothing errors; once the held execution ends and ages, the tree goes whole.
 */
describe.each(DB_KINDS)('a wait and a stream held while the job deletes (%s)', (kind) => {
  let s: TestServer;
  const logged: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    s = await startTestServer(kind, { env: ENV, log: pino({ level: 'warn' }, stream) });
  });
  afterAll(async () => {
    await s.close();
  });

  it('keeps the tree of a held execution, whose holds get their events and end normally', {
    timeout: 60_000,
  }, async () => {
    // The child first, then the root ends: the root is due a second after, and on a loaded machine creating the
    // child after it could take longer than that (the root, alone and due, would rightly be gone).
    const root = await createExecution(s, { workflowId: 'holds-tree' });
    const child = await running(s, { workflowId: 'holds-tree', parentExecutionId: root.id });
    ok(await record(s, root.id, [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'COMPLETED' } }]));
    const other = await finished(s, { workflowId: 'holds-other' });
    const tree = [root.id, child.id];

    const stream = subscribe<{ executionEvents: { sequence: number; type: string } }>(
      s.url,
      'graphql-sse-distinct',
      STREAM,
      { id: child.id },
      {},
      30_000,
    );
    const streamed = collect(stream);
    let waited: unknown = null;
    const waiting = s
      .gql<{ waitForExecution: { completed: boolean; execution: { status: string } } }>(WAIT, { id: child.id })
      .then((res) => {
        waited = res;
        return res;
      });

    // The job runs: the lone execution that aged goes, then several more passes go by over the held tree's root,
    // due by its own completion.
    await eventually(
      () => read(s, other.id),
      (e) => e === null,
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await kept(s, tree)).toEqual(tree);
    expect(waited).toBeNull(); // still held

    ok(await record(s, child.id, [{ progress: { percentage: 70 } }, { statusChanged: { to: 'COMPLETED' } }]));
    expect(ok(await waiting).waitForExecution).toEqual({ completed: true, execution: { status: 'COMPLETED' } });
    const results = await streamed;
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(results.map((r) => r.data?.executionEvents.sequence)).toEqual([1, 2, 3]);
    expect(results.at(-1)?.data?.executionEvents.type).toBe('STATUS_CHANGED');

    // Ended and aged, the tree goes whole.
    await eventually(
      () => kept(s, tree),
      (k) => k.length === 0,
      15_000,
    );
    expect(logged).toEqual([]);
  });
});
