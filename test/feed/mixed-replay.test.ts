import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecution, DB_KINDS, ok, record } from '../support/harness.js';
import { type HookedServer, startHookedServer } from '../support/query-hook.js';
import { collect, subscribe, take } from '../support/subscribe.js';

const STREAM = `subscription($id: ID!, $types: [ExecutionEventType!]) {
  executionEvents(executionId: $id, types: $types, timeout: 30) { sequence type ... on LogEvent { text } }
}`;
type Streamed = { executionEvents: { sequence: number; type: string; text?: string } };

/** The statement of a replay that reads other events of some types (it names the type list). */
const readsTypedEvents = (text: string) =>
  /from "execution_events"/.test(text) && /execution_event_type\[\]/.test(text);

describe.each(DB_KINDS)('a replay of LOG and some other types on %s', (kind) => {
  let s: HookedServer;
  beforeAll(async () => {
    s = await startHookedServer(kind);
  });
  afterAll(() => s.close());

  it('misses no line of a batch that commits while the replay reads', async () => {
    const { id } = await createExecution(s);
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { log: { text: 'a\n' } },
        { progress: { percentage: 1 } },
      ]),
    );
    // Just before the replay reads the other events, a batch of a line and a progress report commits.
    const committed = s.beforeQuery(readsTypedEvents, async () => {
      ok(await record(s, id, [{ log: { text: 'b\n' } }, { progress: { percentage: 2 } }]));
    });
    const sub = subscribe<Streamed>(s.url, 'yoga-sse', STREAM, { id, types: ['LOG', 'PROGRESS'] });
    const first = await take(sub, 1);
    await committed;
    ok(await record(s, id, [{ log: { text: 'c\n' } }, { statusChanged: { to: 'COMPLETED' } }]));
    const got = [...first, ...(await collect(sub))].map((r) => {
      expect(r.errors).toBeUndefined();
      const e = r.data?.executionEvents;
      return [e?.sequence, e?.type, e?.text ?? null];
    });
    expect(got).toEqual([
      [2, 'LOG', 'a\n'],
      [3, 'PROGRESS', null],
      [4, 'LOG', 'b\n'],
      [5, 'PROGRESS', null],
      [6, 'LOG', 'c\n'],
    ]);
  });
});
