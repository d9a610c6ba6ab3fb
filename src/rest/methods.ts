/** A route as Hono lists it (`app.routes`): middleware is method `ALL`. */
interface RouteEntry {
  method: string;
  path: string;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A Hono path (`/api/v1/executions/:execution_id`) as a regular expression over request paths. */
function patternOf(path: string): RegExp {
  const segments = path.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : literal(s)));
  return new RegExp(`^${segments.join('/')}/?$`);
}

/**
 * The methods the routes answer on a request path, for a 405's `Allow` (RFC 9110 §15.5.5); empty when no route
 * has the path (a 404). HEAD goes with GET, as Hono answers it.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (path: string) => string[] {
  const table = routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
    .map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
  return (path) => {
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
