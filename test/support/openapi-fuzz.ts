import fc from 'fast-check';
import type { FuzzRequest } from './fuzz-http.js';
import { brokenBytes, hugeString, type JsonSchema, mutated, nastyString, valid, wrongType } from './json-schema-arb.js';

/** The parts of an OpenAPI 3.1 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
}

export interface FuzzOperation {
  /** `METHOD /path/{template}`, for reports. */
  name: string;
  request: fc.Arbitrary<FuzzRequest>;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
/** A wait's own timeout (seconds, or milliseconds when the name ends in `Ms`): the server may hold that long. */
const TIMEOUT = /^timeout/i;

/** Percent-encoding oddities and path tricks a router must survive. */
const rawPathSegments = fc.constantFrom(
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  ';',
  '%FF%FE',
  '~',
);

/** A path parameter: mostly real ids (so requests reach rows), else any string, unicode, huge, or raw oddities. */
function pathValue(realIds: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: realIds.map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.uuid().map(encodeURIComponent) },
    { weight: 2, arbitrary: hugeString.map(encodeURIComponent) },
    { weight: 1, arbitrary: rawPathSegments },
  );
}

/** Any value rendered as a query string value. */
function queryText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Timeouts drawn at their minimum, so a wait on a live execution answers within the hang bound. */
function short(schema: JsonSchema): JsonSchema {
  if (schema.minimum === undefined) return schema;
  return { ...schema, type: 'integer', maximum: schema.minimum };
}

function queryValue(p: Parameter, ids: fc.Arbitrary<string>, resolve: (r: string) => JsonSchema) {
  const schema = p.schema ?? {};
  const good = valid(TIMEOUT.test(p.name) ? short(schema) : schema, resolve, ids);
  return fc.oneof(
    { weight: 4, arbitrary: good.filter((v) => v !== null).map(queryText) },
    { weight: 2, arbitrary: wrongType.map(queryText) },
    { weight: 1, arbitrary: nastyString },
  );
}

/** What of a value a client can send in a header (node refuses control characters and anything above U+00FF). */
function sendable(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

/** Header values a client can send. */
const headerText = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e\x80-\xff]/g, '')),
  fc.integer({ min: 100, max: 4_000 }).map((n) => 'y'.repeat(n)),
);

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'json',
  '',
  undefined,
);

/** Half the requests send only what the operation needs; the rest add hostile or unusual common headers. */
function commonHeaders(): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(fc.constant({}), unusualHeaders());
}

function unusualHeaders(): fc.Arbitrary<Record<string, string>> {
  return fc.record(
    {
      'x-environment': fc.oneof(fc.constantFrom('test', 'live', 'TEST', 'prod', ''), headerText),
      accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'application/xml', 'text/html'),
      'x-correlation-id': fc.oneof(fc.constantFrom('fuzz-1', 'a'.repeat(129), 'bad id!'), headerText),
      authorization: fc.oneof(
        fc.constantFrom('Bearer ', 'Bearer x', 'Basic Zm9vOmJhcg==', 'Bearer vgl_test_00'),
        headerText,
      ),
      'if-none-match': headerText,
    },
    { requiredKeys: [] },
  );
}

/** How long the server may hold this request: the wait timeout it asked for (or the default), else 0. */
function holdOf(
  operation: Operation,
  query: Record<string, string>,
  body: Buffer | undefined,
  resolve: (r: string) => JsonSchema,
) {
  let bodyValue: Record<string, unknown> = {};
  try {
    if (body?.length) bodyValue = JSON.parse(body.toString('utf8')) ?? {};
  } catch {
    return 0;
  }
  const fields: [string, JsonSchema, unknown][] = [];
  for (const p of operation.parameters ?? []) {
    if (p.in === 'query' && TIMEOUT.test(p.name)) fields.push([p.name, p.schema ?? {}, query[p.name]]);
  }
  let bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  if (bodySchema?.$ref) bodySchema = resolve(bodySchema.$ref);
  for (const [name, s] of Object.entries(bodySchema?.properties ?? {})) {
    if (TIMEOUT.test(name) && typeof bodyValue === 'object') fields.push([name, s, bodyValue[name]]);
  }
  let hold = 0;
  for (const [name, schema, raw] of fields) {
    if (raw !== undefined && raw !== null && typeof raw !== 'string' && typeof raw !== 'number') continue;
    const value = raw === undefined || raw === null ? schema.default : Number(raw);
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    if (value < (schema.minimum ?? 0) || value > (schema.maximum ?? Number.POSITIVE_INFINITY)) continue;
    hold = Math.max(hold, /Ms$/.test(name) ? value : value * 1000);
  }
  return hold;
}

/**
 * One request arbitrary per operation of the document: path parameters (real ids, random, unicode, huge, raw
 * oddities), query parameters (valid by schema, wrong types, garbage, extra), headers (Content-Type variants,
 * X-Environment, Accept, correlation ids, garbage credentials, or `credentials` when given) and bodies from the request schema (valid; mutated by a wrong
 * type, an extra or missing field, a huge string, deep nesting; invalid JSON, invalid UTF-8, empty).
 */
export function operationsOf(
  doc: OpenApiDocument,
  realIds: fc.Arbitrary<string>,
  credentials: fc.Arbitrary<Record<string, string>> = fc.constant({}),
): FuzzOperation[] {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (ref: string) => schemas[ref.replace('#/components/schemas/', '')] ?? {};
  const ids = fc.oneof({ weight: 4, arbitrary: realIds }, fc.uuid());
  const operations: FuzzOperation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const params = operation.parameters ?? [];
      const pathParams: Record<string, fc.Arbitrary<string>> = {};
      const queryParams: Record<string, fc.Arbitrary<string>> = {};
      const headerParams: Record<string, fc.Arbitrary<string>> = {};
      for (const p of params) {
        if (p.in === 'path') pathParams[p.name] = pathValue(realIds);
        if (p.in === 'query') queryParams[p.name] = queryValue(p, ids, resolve);
        if (p.in === 'header') {
          headerParams[p.name.toLowerCase()] = fc.oneof(queryValue(p, ids, resolve), headerText);
        }
      }
      const requiredQuery = params.filter((p) => p.in === 'query' && (p.required || TIMEOUT.test(p.name)));
      const query = fc.record(queryParams, { requiredKeys: requiredQuery.map((p) => p.name) });
      const extraQuery = fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), nastyString), { freq: 4 });
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const body = bodySchema
        ? bodyOf(bodySchema, resolve, ids)
        : fc.option(fc.uint8Array({ maxLength: 64 }).map(Buffer.from), { freq: 8, nil: undefined });
      const request = fc
        .record({
          path: fc.record(pathParams),
          query,
          extraQuery,
          headers: fc.tuple(commonHeaders(), credentials, fc.record(headerParams, { requiredKeys: [] })),
          contentType: contentTypes,
          body,
        })
        .map(
          ({
            path,
            query: q,
            extraQuery: extra,
            headers: [common, access, own],
            contentType,
            body: b,
          }): FuzzRequest => {
            const filled = template.replace(/\{([^}]+)\}/g, (_m, name: string) => path[name] ?? '');
            const search = new URLSearchParams(q);
            if (extra) search.append(extra[0], extra[1]);
            const qs = search.toString();
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries({ ...common, ...access, ...own })) {
              if (value !== undefined) headers[name] = sendable(value);
            }
            if (b !== undefined && contentType !== undefined) headers['content-type'] = contentType;
            if (b !== undefined) headers['content-length'] = String(b.length);
            return {
              method: method.toUpperCase(),
              path: qs ? `${filled}?${qs}` : filled,
              headers,
              body: b,
              holdMs: holdOf(operation, q, b, resolve),
            };
          },
        );
      operations.push({ name: `${method.toUpperCase()} ${template}`, request });
    }
  }
  return operations;
}

/** Bodies for a JSON request schema: valid ones (timeouts short), mutated ones, broken bytes, or none. */
function bodyOf(
  schema: JsonSchema,
  resolve: (r: string) => JsonSchema,
  ids: fc.Arbitrary<string>,
): fc.Arbitrary<Buffer | undefined> {
  const resolved = schema.$ref ? resolve(schema.$ref) : schema;
  const properties = { ...resolved.properties };
  const required = [...(resolved.required ?? [])];
  for (const [name, s] of Object.entries(properties)) {
    if (!TIMEOUT.test(name)) continue;
    properties[name] = short(s);
    required.push(name);
  }
  const good = valid({ ...resolved, properties, required }, resolve, ids);
  return fc.oneof(
    { weight: 4, arbitrary: good.map((v) => Buffer.from(JSON.stringify(v), 'utf8')) },
    { weight: 4, arbitrary: mutated(good) },
    { weight: 2, arbitrary: brokenBytes(good) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}
