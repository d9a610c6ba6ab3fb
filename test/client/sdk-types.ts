/**
 * Type-level tests of `vigil/client`, run by `npm run typecheck` (not by vitest): its types come from
 * schema.graphql, so a field the schema does not have (or no longer has) is a compile error, not `undefined` at run
 * time. If a line marked `@ts-expect-error` compiled, tsc would fail on the unused directive.
 */
import type {
  Execution,
  ExecutionEvent,
  ExecutionPage,
  Run,
  Vigil,
  WaitManyResult,
  WaitResult,
} from '../../src/client/sdk/index.js';

declare const execution: Execution;
declare const event: ExecutionEvent;
declare const page: ExecutionPage;
declare const waited: WaitResult;
declare const run: Run;

export const fields: [string, string, number | null, string | undefined, boolean] = [
  execution.workflowId,
  execution.status,
  execution.durationMs,
  page.edges[0]?.node.id,
  waited.completed,
];
// @ts-expect-error: Execution has workflowId, no workflowName
export const renamed = execution.workflowName;
// @ts-expect-error: status is the schema's enum, not any string
export const status: typeof execution.status = 'DONE';
// @ts-expect-error: a Relay page has edges and pageInfo, no items
export const items = page.items;
export const text = event.__typename === 'LogEvent' ? event.text : null;
// @ts-expect-error: only a LogEvent has text
export const notNarrowed = event.text;
// @ts-expect-error: progress takes a number
export const badProgress = run.progress('50%');

// waitAll / waitAny (API.md §9): the result is the schema's ExecutionsWaitResult, its executions typed as Execution
declare const vigil: Vigil;
export const many: Promise<[boolean, number, string | null, Execution['status'] | undefined]> = vigil
  .waitAll(['id'])
  .then((r: WaitManyResult) => [r.completed, r.durationMs, r.message, r.executions[0]?.status]);
export const anyOne: Promise<string[]> = vigil
  .waitAny({ tags: [{ key: 'k', value: 'v' }] })
  .then((r) => r.executions.map((e) => e.id));
// @ts-expect-error: a wait on many has executions, no execution
export const single = vigil.waitAll(['id']).then((r) => r.execution);
