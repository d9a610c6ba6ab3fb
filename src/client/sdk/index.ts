/**
 * `vigil/client`: a typed client of Vigil's public API for workers, scripts and frontends. It imports nothing from
 * the server (fetch and graphql-sse underneath); its result types are inferred from schema.graphql (`graphql.ts`).
 *
 *   const vigil = createVigil({ url: 'http://127.0.0.1:4000', apiKey, environment: 'test' });
 *   const run = await vigil.startExecution({ workflowId: 'nightly', heartbeatTimeoutSeconds: 30 });
 *   run.progress(50, 'load'); run.log('loaded 490 rows');
 *   await run.complete({ rows: 490 });
 */

import { CreateExecution, GetExecution, ListExecutions, WaitExecution, WaitExecutions } from './documents.js';
import { type EventsOptions, type ExecutionEvent, type ExecutionEventType, followEvents } from './events.js';
import type { ResultOf, VariablesOf } from './graphql.js';
import { type Execution, type ExecutionEventInput, ExecutionStoppedError, Run, type RunOptions } from './run.js';
import { Transport, VigilApiError } from './transport.js';

export type { EventsOptions, Execution, ExecutionEvent, ExecutionEventInput, ExecutionEventType, RunOptions };
export { ExecutionStoppedError, Run, VigilApiError };

export type CreateExecutionInput = VariablesOf<typeof CreateExecution>['input'];
export type ExecutionFilter = NonNullable<VariablesOf<typeof ListExecutions>['filter']>;
/** A Relay page of executions (`edges { cursor node }`, `pageInfo`), newest first. */
export type ExecutionPage = ResultOf<typeof ListExecutions>['executions'];
export type WaitResult = ResultOf<typeof WaitExecution>['waitForExecution'];
export type WaitManyResult = ResultOf<typeof WaitExecutions>['waitForExecutions'];

export interface VigilOptions {
  /** Base URL of a Vigil server, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** API key (`Authorization: Bearer`); none with auth off. */
  apiKey?: string;
  /** `test` or `live` (`X-Environment`); none lets the server pick the key's own. */
  environment?: 'test' | 'live';
  /** How long reads and reports are sent again after network failures (ms); default 30 s. */
  retryForMs?: number;
}

export interface WaitManyOptions {
  /** Seconds (1..3600, default 300); at the timeout the result says `completed: false`. */
  timeout?: number;
  /** With a filter and `waitAll`: complete only once at least this many match (default 1). */
  expectedCount?: number;
}

export interface Vigil {
  /** The execution, or null when it is absent or not visible to this key. */
  execution(id: string): Promise<Execution | null>;
  /** One page of executions matching the filter, newest first; pass `pageInfo.endCursor` as `after` for the next. */
  executions(filter?: ExecutionFilter, page?: { first?: number; after?: string | null }): Promise<ExecutionPage>;
  /** Waits until the execution is terminal, or the timeout (seconds; default 300) passes. */
  wait(id: string, options?: { timeout?: number }): Promise<WaitResult>;
  /** Waits until every one of the executions (ids, or those a filter matches) is terminal (API.md §9). */
  waitAll(target: string[] | ExecutionFilter, options?: WaitManyOptions): Promise<WaitManyResult>;
  /** Waits until any one of them is terminal. */
  waitAny(
    target: string[] | ExecutionFilter,
    options?: Omit<WaitManyOptions, 'expectedCount'>,
  ): Promise<WaitManyResult>;
  /** The execution's events, replayed and then live, resuming by itself after a dropped connection. */
  events(id: string, options?: EventsOptions): AsyncGenerator<ExecutionEvent, void, undefined>;
  /**
   * Creates an execution (idempotently: retried after a network failure without creating two) and returns a
   * worker's handle on it, which reports RUNNING first unless `running: false`.
   */
  startExecution(input: CreateExecutionInput, options?: RunOptions & { running?: boolean }): Promise<Run>;
  /** Ends open subscriptions. */
  close(): void;
}

export function createVigil(options: VigilOptions): Vigil {
  const transport = new Transport({ url: options.url, key: options.apiKey, environment: options.environment });
  const retry = { retryForMs: options.retryForMs };
  const waitMany = (target: string[] | ExecutionFilter, mode: 'ALL' | 'ANY', o: WaitManyOptions = {}) =>
    transport
      .retrying(
        WaitExecutions,
        {
          ...(Array.isArray(target) ? { ids: target } : { filter: target }),
          mode,
          expectedCount: o.expectedCount ?? null,
          timeout: o.timeout ?? null,
        },
        retry,
      )
      .then((r) => r.waitForExecutions);
  return {
    execution: async (id) => (await transport.retrying(GetExecution, { id }, retry)).execution,
    executions: async (filter, page = {}) =>
      (
        await transport.retrying(
          ListExecutions,
          { filter: filter ?? null, first: page.first ?? null, after: page.after ?? null },
          retry,
        )
      ).executions,
    wait: async (id, o = {}) =>
      (await transport.retrying(WaitExecution, { id, timeout: o.timeout ?? null }, retry)).waitForExecution,
    waitAll: (target, o) => waitMany(target, 'ALL', o),
    waitAny: (target, o) => waitMany(target, 'ANY', o),
    events: (id, o) => followEvents(transport, id, { retryForMs: options.retryForMs, ...o }),
    startExecution: async (input, o = {}) => {
      // The key makes the create safe to send again: a retry answers the execution the first one created.
      const idempotent = { ...input, idempotencyKey: input.idempotencyKey ?? crypto.randomUUID() };
      const { createExecution } = await transport.retrying(CreateExecution, { input: idempotent }, retry);
      const run = new Run(transport, createExecution, { retryForMs: options.retryForMs, ...o });
      if (o.running !== false) void run.report({ statusChanged: { to: 'RUNNING' } });
      return run;
    },
    close: () => transport.client.close(),
  };
}
