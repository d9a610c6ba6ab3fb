import { createExecution, ok, type TestServer } from './harness.js';
import type { Subscription } from './subscribe.js';

/** executionChanges (API.md §9) as the tests read it. */
export const CHANGES = `subscription($filter: ExecutionFilter, $after: String) {
  executionChanges(filter: $filter, after: $after) { cursor execution { id status workflowId lastSequence } }
}`;
export type Change = {
  cursor: string;
  execution: { id: string; status: string; workflowId: string; lastSequence: number };
};
export type Changes = { executionChanges: Change };
export const CURSOR = '{ executionChangesCursor }';

export async function cursorOf(s: TestServer, headers?: Record<string, string>): Promise<string> {
  return ok(await s.gql<{ executionChangesCursor: string }>(CURSOR, {}, headers)).executionChangesCursor;
}

/** Reads changes until `done` holds for what was read (or the bound passes); leaves the subscription open. */
export async function readUntil(
  sub: Subscription<Changes>,
  done: (seen: Change[]) => boolean,
  timeoutMs = 10_000,
): Promise<Change[]> {
  const seen: Change[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(seen) && Date.now() < deadline) {
    const next = await Promise.race([
      sub.results.next(),
      new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, deadline - Date.now()))),
    ]);
    if (!next || next.done) {
      break;
    }
    if (next.value.errors) throw new Error(JSON.stringify(next.value.errors));
    const change = next.value.data?.executionChanges;
    if (change) seen.push(change);
  }
  return seen;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live-only subscription has no acknowledgement: creates probes until one arrives. */
export async function untilLive(s: TestServer, sub: Subscription<Changes>, workflowId: string) {
  const probes = new Set<string>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      probes.add((await createExecution(s, { workflowId })).id);
      await sleep(150);
    }
  })();
  const seen = await readUntil(sub, (got) => got.some((c) => probes.has(c.execution.id)));
  stop = true;
  await loop;
  return { seen, probes };
}

/** Has every execution in `expected` (id → lastSequence) been seen at that sequence or later? */
export const covers = (seen: Change[], expected: Map<string, number>) =>
  [...expected].every(([id, n]) => seen.some((c) => c.execution.id === id && c.execution.lastSequence >= n));
