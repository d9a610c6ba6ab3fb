import { ERROR_CODES, type ErrorCode, httpStatusOf } from '../../src/domain/errors.js';
import { describeRequest, type FuzzRequest, type FuzzResponse } from './fuzz-http.js';

/** The codes a client may see (API.md §4 and the HTTP routing ones); INTERNAL is a masked fault, never a contract answer. */
export const CONTRACT_CODES = new Set<string>(ERROR_CODES.filter((c) => c !== 'INTERNAL'));

const TABLE_STATUSES = new Set([...CONTRACT_CODES].map((c) => httpStatusOf(c as ErrorCode)));

/** A stack frame or a source path in a body: a fault leaking our internals. */
const STACK = /\n\s+at .+\(|\/(src|node_modules)\/\S+\.(ts|js):\d+/;

/** One way a response broke the property; `kind` groups findings, `example` replays one. */
export interface Violation {
  kind: string;
  example: string;
}

/** The transport a request used: method, path, and SSE when it asked for a stream. */
function where(req: FuzzRequest): string {
  const sse = /text\/event-stream/.test(req.headers.accept ?? '') ? ' (SSE)' : '';
  return `${req.method} ${req.path.split('?')[0]?.slice(0, 40)}${sse}`;
}

/** A message without its numbers and quoted parts, so that one cause is one kind of finding. */
function gist(text: string): string {
  return text
    .split('\n')[0]!
    .replace(/\d+/g, 'N')
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .slice(0, 60);
}

function violation(kind: string, req: FuzzRequest, res: FuzzResponse): Violation {
  const text = res.text.length > 400 ? `${res.text.slice(0, 400)}…` : res.text;
  return { kind, example: `${describeRequest(req)} → ${res.status ?? res.failure} ${JSON.stringify(text)}` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Failures every surface shares: a hang, a dropped connection, a 5xx, a stack trace in the body. */
function transportViolations(req: FuzzRequest, res: FuzzResponse): Violation[] {
  if (res.failure === 'held' || res.failure === 'unsendable') return [];
  if (res.failure) return [violation(`${res.failure}: ${res.detail ?? ''}`.slice(0, 80), req, res)];
  const found: Violation[] = [];
  if ((res.status ?? 0) >= 500) found.push(violation(`5xx: ${res.status} ${where(req)} ${gist(res.text)}`, req, res));
  if (STACK.test(res.text)) found.push(violation('stack trace in body', req, res));
  return found;
}

/**
 * REST (API.md §4): no 5xx; every 4xx is `{detail, error_code, correlation_id, timestamp}` with a contract code whose
 * status is the response's, `correlation_id` the `X-Correlation-Id` header, and for 422 FastAPI's `detail` list.
 */
export function restViolations(req: FuzzRequest, res: FuzzResponse): Violation[] {
  const found = transportViolations(req, res);
  if (res.failure) return found;
  for (const frame of sseFrames(res).filter((f) => f.event === 'error')) {
    const code = (parseJson(frame.data) as { error_code?: unknown } | undefined)?.error_code;
    if (typeof code !== 'string' || !CONTRACT_CODES.has(code)) {
      found.push(violation(`SSE error event without a contract error_code (${String(code)})`, req, res));
    }
  }
  if ((res.status ?? 0) < 400) return found;
  const status = res.status ?? 0;
  const body = parseJson(res.text) as Record<string, unknown> | undefined;
  const code = body?.error_code;
  if (typeof code !== 'string' || !CONTRACT_CODES.has(code)) {
    found.push(violation(`${status} without a contract error_code (${String(code)})`, req, res));
    return found;
  }
  // A status of the §4 table carries that row's code; others (405, 408, 415, 431…) carry the closest code.
  if (TABLE_STATUSES.has(status) && httpStatusOf(code as ErrorCode) !== status) {
    found.push(violation(`${status} with error_code ${code}`, req, res));
  }
  if (body?.correlation_id !== res.headers['x-correlation-id'] || typeof body?.timestamp !== 'string') {
    found.push(violation(`${status} ${code}: correlation_id or timestamp missing`, req, res));
  }
  const detail = body?.detail;
  // FastAPI's list on 422; a refusal before routing (431 headers over the limit) may say it in a sentence.
  const detailOk =
    status === 422
      ? Array.isArray(detail) &&
        detail.every((d: Record<string, unknown>) => Array.isArray(d?.loc) && typeof d?.msg === 'string')
      : typeof detail === 'string';
  if (!detailOk) found.push(violation(`${status} ${code}: detail not in FastAPI's shape`, req, res));
  return found;
}

interface GraphQLResult {
  errors?: { message?: unknown; extensions?: { code?: unknown } }[];
}

/** The frames of an SSE body (empty when the body is not `text/event-stream`). */
function sseFrames(res: FuzzResponse): { event: string; data: string }[] {
  if (!/text\/event-stream/i.test(String(res.headers['content-type'] ?? ''))) return [];
  return res.text.split('\n\n').map((frame) => {
    const lines = frame.split('\n');
    const field = (name: string) =>
      lines
        .filter((line) => line.startsWith(`${name}:`))
        .map((line) => line.slice(name.length + 1).trim())
        .join('\n');
    return { event: field('event'), data: field('data') };
  });
}

/** The GraphQL results in a body: one JSON object, or the `data:` payloads of SSE frames. */
function graphqlResults(res: FuzzResponse): GraphQLResult[] | undefined {
  if (/text\/event-stream/i.test(String(res.headers['content-type'] ?? ''))) {
    const results: GraphQLResult[] = [];
    for (const { data } of sseFrames(res)) {
      const parsed = data === '' ? undefined : parseJson(data);
      if (parsed && typeof parsed === 'object') results.push(parsed as GraphQLResult);
    }
    return results;
  }
  const parsed = parseJson(res.text);
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? [parsed as GraphQLResult] : undefined;
}

/**
 * GraphQL (API.md §4): no 5xx; every error, in a JSON body or an SSE frame, has a contract code in
 * `extensions.code`; a 4xx carries at least one such error (never an empty or foreign body).
 */
export function graphqlViolations(req: FuzzRequest, res: FuzzResponse): Violation[] {
  const found = transportViolations(req, res);
  if (res.failure) return found;
  const status = res.status ?? 0;
  const results = graphqlResults(res);
  if (results === undefined || (status >= 400 && results.every((r) => !Array.isArray(r.errors)))) {
    // Refused before any route (node's own 431, 400): the REST error body with a contract code is an answer too.
    const code = (parseJson(res.text) as { error_code?: unknown } | undefined)?.error_code;
    if (status >= 400 && !(typeof code === 'string' && CONTRACT_CODES.has(code))) {
      found.push(violation(`${status} without a GraphQL error body (${where(req)})`, req, res));
    }
    return found;
  }
  const errors = results.flatMap((r) => (Array.isArray(r.errors) ? r.errors : []));
  if (status >= 400 && errors.length === 0) found.push(violation(`${status} without errors[]`, req, res));
  for (const error of errors) {
    const code = error?.extensions?.code;
    if (typeof code !== 'string' || !CONTRACT_CODES.has(code)) {
      found.push(
        violation(`error with code ${String(code)} (${where(req)}): ${gist(String(error?.message))}`, req, res),
      );
    }
  }
  return found;
}

/** Groups findings by kind, one example each, for a failure message a human can act on. */
export function summarize(violations: Violation[]): string {
  const byKind = new Map<string, { count: number; example: string }>();
  for (const v of violations) {
    const entry = byKind.get(v.kind);
    if (entry) entry.count++;
    else byKind.set(v.kind, { count: 1, example: v.example });
  }
  return [...byKind.entries()].map(([kind, { count, example }]) => `- ${kind} (×${count})\n    ${example}`).join('\n');
}
