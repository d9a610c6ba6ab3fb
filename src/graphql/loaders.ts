import DataLoader from 'dataloader';
import type { Page } from '../domain/executions.js';
import { logPages } from '../domain/logs.js';
import { childrenPages, executionsByIds, retriesOf } from '../domain/relatives.js';
import type { Execution, ExecutionEvent } from '../domain/types.js';
import type { GraphQLContext } from './context.js';

interface Loaders {
  parent: DataLoader<string, Execution | null>;
  retries: DataLoader<string, Execution[]>;
  /** One loader per distinct `children` arguments (usually one per request). */
  children: Map<string, DataLoader<string, Page>>;
  /** One loader per distinct `logs` arguments. */
  logs: Map<string, DataLoader<string, ExecutionEvent[]>>;
}

const perRequest = new WeakMap<GraphQLContext, Loaders>();

/**
 * Batches `parent`, `retries`, `children` and `logs` over the rows of one request (a list of 100 executions asking for each
 * one's parent is one query, not 100). Loaders live as long as the request's context, so nothing is cached across
 * requests or principals.
 */
export function loadersOf(ctx: GraphQLContext): Loaders {
  let loaders = perRequest.get(ctx);
  if (!loaders) {
    loaders = {
      parent: new DataLoader((ids) => executionsByIds(ctx.db, ctx.principal, ids)),
      retries: new DataLoader((ids) => retriesOf(ctx.db, ctx.principal, ids)),
      children: new Map(),
      logs: new Map(),
    };
    perRequest.set(ctx, loaders);
  }
  return loaders;
}

export function childrenLoader(
  ctx: GraphQLContext,
  args: { filter?: unknown; first?: number | null; after?: string | null },
): DataLoader<string, Page> {
  const loaders = loadersOf(ctx).children;
  const key = JSON.stringify([args.filter ?? null, args.first ?? null, args.after ?? null]);
  let loader = loaders.get(key);
  if (!loader) {
    loader = new DataLoader((ids) => childrenPages(ctx.db, ctx.principal, ids, args));
    loaders.set(key, loader);
  }
  return loader;
}

export function logsLoader(
  ctx: GraphQLContext,
  args: { after: number; first: number },
): DataLoader<string, ExecutionEvent[]> {
  const loaders = loadersOf(ctx).logs;
  const key = `${args.after}:${args.first}`;
  let loader = loaders.get(key);
  if (!loader) {
    loader = new DataLoader((ids) => logPages(ctx.db, ids, args));
    loaders.set(key, loader);
  }
  return loader;
}
