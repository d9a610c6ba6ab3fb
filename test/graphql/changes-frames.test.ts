import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorOf } from '../support/changes.js';
import { createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { readSse } from '../support/sse.js';

/** Every kind of field an execution has: scalars, enums, dates, JSON, nested objects, lists, a resolver (parent). */
const RICH = `subscription($filter: ExecutionFilter, $after: String) {
  executionChanges(filter: $filter, after: $after) {
    cursor
    execution {
      id attempt organizationId environment workflowId workflowVersion status lastSequence pinned logBytes
      progress { step percentage } inputs output metadata error { code message step }
      trigger { type eventId } createdAt startedAt completedAt updatedAt durationMs
      stats { totalMessages } steps { id name status startedAt } tags { key value }
      parent { id status } rootExecutionId parentExecutionId heartbeatTimeoutSeconds
    }
  }
}`;
/** Not the lean path's shape (a directive on the root field): executed by graphql-js through yoga's envelop. */
const RICH_ENVELOPED = RICH.replace('after: $after)', 'after: $after) @include(if: true)');

async function frames(s: TestServer, query: string, variables: Record<string, unknown>, n: number) {
  const controller = new AbortController();
  const res = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const data: string[] = [];
  for await (const m of readSse(res, 15_000)) {
    if (m.event === 'next') data.push(m.data);
    if (data.length >= n) break;
  }
  controller.abort();
  return data;
}

describe.each(DB_KINDS)('executionChanges frames on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s.close());

  it('are the same bytes on the lean path (its compiled execution) as graphql-js writes for a replay', async () => {
    const filter = { workflowId: 'frames' };
    const after = await cursorOf(s);
    const parent = await createExecution(s, { workflowId: 'frames', inputs: { a: [1, 'x', null] } });
    ok(
      await record(s, parent.id, [
        { statusChanged: { to: 'RUNNING' } },
        { progress: { step: 'load', percentage: 40 } },
      ]),
    );
    const child = await createExecution(s, {
      workflowId: 'frames',
      parentExecutionId: parent.id,
      tags: [{ key: 'team', value: 'a' }],
    });
    ok(
      await record(s, child.id, [
        { statusChanged: { to: 'RUNNING' } },
        { statusChanged: { to: 'FAILED', error: { code: 'E_BOOM', message: 'boom' } } },
      ]),
    );
    const replay = await Promise.all([
      frames(s, RICH, { filter, after }, 2),
      frames(s, RICH_ENVELOPED, { filter, after }, 2),
    ]);
    expect(replay[0]).toHaveLength(2);
    expect(JSON.parse(replay[0][1] as string).data.executionChanges.execution).toMatchObject({
      status: 'FAILED',
      parent: { id: parent.id, status: 'RUNNING' },
      tags: [{ key: 'team', value: 'a' }],
    });
    expect(replay[0]).toEqual(replay[1]);
  });
});
