import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { VigilError } from '../domain/errors.js';
import { executionJson } from '../domain/execution-view.js';
import { listExecutions } from '../domain/executions.js';
import type { RestApp, RestDeps } from './context.js';
import { ExecutionJson } from './response-json.js';
import { errorResponses, jsonContent, queryNumber, SECURITY } from './schemas.js';

/** GraphQL's Execution as JSON, exactly (the REST adapters' ExecutionJson spells `environment` in lowercase). */
export const GraphQLExecution = ExecutionJson.extend({ environment: z.enum(['TEST', 'LIVE']) }).meta({
  id: 'GraphQLExecution',
  description: "GraphQL's Execution as JSON (every field without arguments)",
});

const ExecutionList = z
  .object({
    executions: z.array(GraphQLExecution).meta({ description: 'Newest first (createdAt desc, id desc)' }),
    pageInfo: z.object({
      hasNextPage: z.boolean(),
      endCursor: z.string().nullable().meta({ description: "The last row's cursor; GraphQL's cursors are the same" }),
    }),
  })
  .meta({ id: 'ExecutionList' });

const optional = (description: string) => z.string().optional().meta({ description });

/** The filter's query parameters (API.md §8), shared with `GET /api/v1/executions/changes`. */
export const FILTER_QUERY = {
  status: optional('Comma-separated ExecutionStatus values, e.g. RUNNING,FAILED'),
  workflowId: optional('Exactly this workflowId'),
  workflowIdPrefix: optional('workflowId starts with this'),
  tag: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({
      description: 'key=value, split at the first = (which a key cannot contain); repeat it: every pair must match',
    }),
  parentExecutionId: optional('Children of this execution'),
  rootExecutionId: optional('Every execution of this tree'),
  idPrefix: optional('The start of an execution id'),
  createdAfter: optional('ISO 8601 with a zone; exclusive'),
  createdBefore: optional('ISO 8601 with a zone; exclusive'),
};

const route = createRoute({
  method: 'get',
  path: '/api/v1/executions',
  operationId: 'listExecutions',
  tags: ['Executions'],
  summary: 'List executions, newest first, filtered by status, workflow, tags or lineage',
  description:
    'GraphQL `executions` over REST (API.md §8): every filter of ExecutionFilter, newest first, with cursors that ' +
    'GraphQL accepts too (and the other way round).',
  security: SECURITY,
  request: {
    query: z.object({
      ...FILTER_QUERY,
      first: queryNumber(z.int().min(0).max(100).default(20)).optional().meta({ description: '0–100, default 20' }),
      after: optional('A cursor (endCursor of the previous page)'),
    }),
  },
  responses: {
    200: jsonContent(ExecutionList, 'One page of executions'),
    ...errorResponses(422),
  },
});

/** `tag=key=value` as GraphQL's TagInput; a value without `=` is refused naming the parameter. */
function tagsOf(raw: string | string[] | undefined): { key: string; value: string }[] | undefined {
  if (raw === undefined) return undefined;
  return (Array.isArray(raw) ? raw : [raw]).map((t, i) => {
    const at = t.indexOf('=');
    if (at < 0) {
      throw new VigilError('VALIDATION_FAILED', 'Invalid input: tag must be key=value', {
        issues: [{ loc: ['query', 'tag', i], msg: 'must be key=value', type: 'value_error' }],
      });
    }
    return { key: t.slice(0, at), value: t.slice(at + 1) };
  });
}

/** The filter's query parameters as GraphQL's ExecutionFilter (for the domain to validate). */
export function filterOfQuery(
  q: {
    [K in keyof typeof FILTER_QUERY]?: z.infer<(typeof FILTER_QUERY)[K]>;
  },
): Record<string, unknown> {
  return {
    status: q.status?.split(',').map((s) => s.trim()),
    workflowId: q.workflowId,
    workflowIdPrefix: q.workflowIdPrefix,
    tags: tagsOf(q.tag),
    parentExecutionId: q.parentExecutionId,
    rootExecutionId: q.rootExecutionId,
    idPrefix: q.idPrefix,
    createdAfter: q.createdAfter,
    createdBefore: q.createdBefore,
  };
}

/**
 * The domain names a bad filter field as GraphQL spells it (`filter.tags.1.key`); here it is a query parameter
 * (`query.tag.1`), so the 422 names what the caller sent.
 */
export function asQueryError(err: unknown): unknown {
  if (!(err instanceof VigilError) || !err.issues) return err;
  const issues = err.issues.map((issue) => {
    const [root, field, index] = issue.loc;
    if (root !== 'filter') return { ...issue, loc: ['query', ...issue.loc] };
    if (field === 'tags') return { ...issue, loc: ['query', 'tag', ...(index === undefined ? [] : [index])] };
    return { ...issue, loc: ['query', field ?? 'filter'] };
  });
  return new VigilError(err.code, err.message, { issues });
}

/** `GET /api/v1/executions`: the same list as GraphQL's `executions`, through the same domain call. */
export function registerList(app: RestApp, deps: RestDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query');
    const filter = filterOfQuery(q);
    const page = await listExecutions(deps.db, c.var.principal, { filter, first: q.first, after: q.after }).catch(
      (err: unknown) => {
        throw asQueryError(err);
      },
    );
    return c.json(
      {
        executions: page.nodes.map(executionJson),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
      },
      200,
    );
  });
}
