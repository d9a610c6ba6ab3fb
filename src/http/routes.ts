/** The paths server.ts answers itself or hands to GraphQL and the dashboard (REST's come from its router). */
const OWN_ROUTES = [
  '/',
  '/index.html',
  '/assets/{file}',
  '/graphql',
  '/graphql/stream',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/docs',
];

export const OTHER_ROUTE = 'other';

interface Template {
  label: string;
  pattern: RegExp;
  params: number;
}

/**
 * The `route` label of a request: the template of the route it matched (`/api/v1/executions/{execution_id}/wait`)
 * or `other`, so the label set is bounded by the routes Vigil has, whatever paths clients send (a label per
 * distinct path let unauthenticated garbage grow /metrics without bound). `routes` lists the REST router's paths
 * in Hono's `:param` form or OpenAPI's `{param}` form (entries with `*` are middleware and are skipped). They are
 * read on first use, because the REST edge is built after the metrics.
 */
export function routeLabeler(routes: () => readonly string[]): (path: string) => string {
  let templates: Template[] | undefined;
  return (path) => {
    templates ??= compile([...OWN_ROUTES, ...routes()]);
    if (path.length > 512) return OTHER_ROUTE;
    for (const t of templates) if (t.pattern.test(path)) return t.label;
    return OTHER_ROUTE;
  };
}

function compile(routes: readonly string[]): Template[] {
  const labels = new Set<string>();
  for (const route of routes) {
    if (!route.includes('*')) labels.add(route.replace(/:(\w+)/g, '{$1}'));
  }
  return [...labels]
    .map((label) => {
      const parts = label.split(/\{\w+\}/);
      const source = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
      return { label, pattern: new RegExp(`^${source}$`), params: parts.length - 1 };
    })
    .sort((a, b) => a.params - b.params); // literal segments win: `/executions/wait` before `/executions/{id}`
}
