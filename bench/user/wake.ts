/**
 * One round of the wake figure (issue 22), as the user bench (`measure.ts`) and `bench/ab.ts` take it: create an
 * execution, hold `k` `waitForExecution`s on it in the waiters' own process (`waiters.ts`), wait until the server
 * counts them (and a little more), then time `updateExecutionStatus(COMPLETED)` sent → each waiter's answer in.
 */
import { type Child, createExecution, gql, holding, mono } from './http.js';

const COMPLETE = 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: COMPLETED) { success } }';

/** Each waiter's latency in ms; throws on a refused or missing answer (`label` names the server). */
export async function wakeRound(label: string, base: string, waiters: Child, k: number): Promise<number[]> {
  const id = await createExecution(base, 'user-wake');
  waiters.send(`wait ${id} ${k}`);
  await waiters.next('sent');
  await holding(base, k, 30_000);
  await new Promise((r) => setTimeout(r, k > 100 ? 100 : 20));
  const t0 = mono();
  const [, got] = await Promise.all([
    gql(base, COMPLETE, { id }),
    waiters.next<{ at: number[]; error?: string }>('at', 60_000),
  ]);
  if (got.error || got.at.length !== k) throw new Error(`${label}: ${got.error ?? `${got.at.length}/${k} answers`}`);
  return got.at.map((at) => at - t0);
}
