import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import type { FuzzRequest } from './fuzz-http.js';
import { brokenBytes, nastyString, wrongType } from './json-schema-arb.js';

/** One generated GraphQL request before it is put on a transport. */
export interface GraphQLCase {
  kind: 'query' | 'mutation' | 'subscription';
  document: string;
  /** Variables as JSON text (so that mutations can carry deep nesting no stringify would survive). */
  variables?: string;
  operationName?: string;
  /** How long the server may hold it (a wait's own timeout). */
  holdMs: number;
}

const DATES = fc.oneof(
  fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '275760-09-13T00:00:00Z', '2024-02-30T00:00:00Z', 'yesterday', '1e3'),
);

/** A valid value for an input type, as a client would send it in variables. */
function inputValue(
  type: GraphQLInputType,
  ids: fc.Arbitrary<string>,
  argName: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return inputValue(type.ofType, ids, argName, depth);
  const nullable = (a: fc.Arbitrary<unknown>) => fc.oneof({ weight: 5, arbitrary: a }, fc.constant(null));
  if (isListType(type)) return nullable(fc.array(inputValue(type.ofType, ids, argName, depth + 1), { maxLength: 3 }));
  if (isEnumType(type)) return nullable(fc.constantFrom(...type.getValues().map((v) => v.name)));
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) model[f.name] = inputValue(f.type, ids, f.name, depth + 1);
    return nullable(fc.record(model, { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) }));
  }
  switch (type.name) {
    case 'ID':
      return fc.oneof({ weight: 5, arbitrary: ids }, fc.uuid(), fc.string({ maxLength: 10 }));
    case 'Int':
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 50 }) },
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      );
    case 'Float':
      return /timeout/i.test(argName) ? fc.constant(1) : fc.double({ min: -1e6, max: 1e6, noNaN: true });
    case 'Boolean':
      return fc.boolean();
    case 'String':
      return fc.string({ minLength: 1, maxLength: 20 });
    case 'DateTime':
      return DATES;
    case 'JSON':
      return fc.jsonValue({ maxDepth: 3 });
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** The type as written in a variable definition. */
function typeText(type: GraphQLInputType): string {
  return String(type);
}

/** A selection set for `type`: a few of its fields, nested objects to `depth`, abstract types through fragments. */
function selection(type: GraphQLNamedType, depth: number): fc.Arbitrary<string> {
  if (isLeafType(type)) return fc.constant('');
  if (depth > 3 || !(isObjectType(type) || isInterfaceType(type))) return fc.constant('{ __typename }');
  const fields = Object.values(type.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type)));
  const one = fc
    .constantFrom(...fields)
    .chain((f) => selection(getNamedType(f.type), depth + 1).map((sub) => `${f.name} ${sub}`));
  return fc.uniqueArray(one, { minLength: 1, maxLength: 4 }).map((parts) => `{ __typename ${parts.join(' ')} }`);
}

/** A field of a root type with its arguments as variables, valid or with one variable broken. */
function rootCase(
  kind: GraphQLCase['kind'],
  root: GraphQLObjectType,
  ids: fc.Arbitrary<string>,
): fc.Arbitrary<GraphQLCase> {
  return fc.constantFrom(...Object.values(root.getFields())).chain((field) => {
    const args = field.args;
    const defs = args.map((a) => `$${a.name}: ${typeText(a.type)}`).join(', ');
    const uses = args.map((a) => `${a.name}: $${a.name}`).join(', ');
    const head = `${kind} Fuzz${defs ? `(${defs})` : ''}`;
    const call = `${field.name}${uses ? `(${uses})` : ''}`;
    const values = fc.record(Object.fromEntries(args.map((a) => [a.name, inputValue(a.type, ids, a.name)])), {
      requiredKeys: args.filter((a) => isNonNullType(a.type) || /timeout/i.test(a.name)).map((a) => a.name),
    });
    return fc
      .tuple(selection(getNamedType(field.type), 1), values, variableMutation(args))
      .map(([sub, vars, mutate]) => {
        const text = mutate(vars);
        return {
          kind,
          document: `${head} { ${call} ${sub} }`,
          variables: text,
          operationName: 'Fuzz',
          holdMs: holdOf(args, text),
        };
      });
  });
}

/** Valid variables mostly; else one broken: wrong type, null, dropped, extra, huge, deeply nested, not an object. */
function variableMutation(args: readonly GraphQLArgument[]): fc.Arbitrary<(vars: Record<string, unknown>) => string> {
  const names = args.map((a) => a.name);
  const pickName = names.length ? fc.constantFrom(...names) : fc.constant('extra');
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant((vars: Record<string, unknown>) => JSON.stringify(vars)) },
    pickName.chain((name) =>
      wrongType.map((w) => (vars: Record<string, unknown>) => JSON.stringify({ ...vars, [name]: w })),
    ),
    pickName.map((name) => (vars: Record<string, unknown>) => {
      const { [name]: _dropped, ...rest } = vars;
      return JSON.stringify(rest);
    }),
    fc.constant((vars: Record<string, unknown>) => JSON.stringify({ ...vars, undeclared: 1 })),
    pickName.map((name) => (vars: Record<string, unknown>) => JSON.stringify({ ...vars, [name]: 'x'.repeat(70_000) })),
    fc.constantFrom(100, 10_000, 200_000).chain((depth) =>
      pickName.map((name) => (vars: Record<string, unknown>) => {
        const rest = JSON.stringify({ ...vars, [name]: 0 }).replace(
          `"${name}":0`,
          `"${name}":${'['.repeat(depth)}${']'.repeat(depth)}`,
        );
        return rest;
      }),
    ),
    fc.constantFrom('[]', '"{}"', '1', 'null', '{', '').map((text) => () => text),
  );
}

/** The wait a `timeout` argument asks for (the schema's default 300 s when absent), in ms. */
function holdOf(args: readonly GraphQLArgument[], variables: string): number {
  const timeout = args.find((a) => /timeout/i.test(a.name));
  if (!timeout) return 0;
  let value: unknown;
  try {
    value = (JSON.parse(variables) as Record<string, unknown>)?.[timeout.name];
  } catch {
    return 0;
  }
  const seconds = value === undefined || value === null ? Number(timeout.defaultValue ?? 0) : value;
  return typeof seconds === 'number' && seconds >= 1 && seconds <= 3600 ? seconds * 1000 : 0;
}

/** Documents that are not valid: syntax, unknown names, over armor's limits, cycles, operation confusion. */
const malformed: fc.Arbitrary<GraphQLCase> = fc
  .oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '{',
      '}',
      '{ __typename',
      'query { nope }',
      '{ execution { id } }',
      '{ executions(first: "x") { nodes { id } } }',
      '{ executions(filter: {createdAfter: "0000-01-01T00:00:00Z"}) { nodes { id } } }',
      '{ executions(first: -1) { nodes { id } } }',
      '{ executions(first: 100000) { nodes { id } } }',
      '{ executions(after: "not-a-cursor") { nodes { id } } }',
      'fragment A on Query { ...B } fragment B on Query { ...A } { ...A }',
      'query A { __typename } query B { __typename }',
      'subscription { __typename }',
      'mutation { __typename }',
      'query ($v: Nope) { __typename }',
      'query ($v: Int!) { __typename }',
      '{ __typename @nope }',
      '{ viewer { scopes { x } } }',
    ),
    fc
      .integer({ min: 21, max: 200 })
      .map((d) => `{ __schema { types { ${'ofType { '.repeat(d)}name${' }'.repeat(d)} } } }`),
    fc
      .integer({ min: 31, max: 300 })
      .map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { authenticated }`).join(' ')} }`),
    fc.integer({ min: 51, max: 500 }).map((n) => `{ __typename ${'@include(if: true) '.repeat(n)}}`),
    fc.integer({ min: 5_001, max: 40_000 }).map((n) => `{ ${'__typename '.repeat(n)}}`),
    fc.integer({ min: 1, max: 20 }).map((n) => '{'.repeat(n * 1_000)),
  )
  .map((document) => ({ kind: 'query', document, holdMs: 0 }));

/** Every root field of the schema (queries, mutations, subscriptions) with generated arguments, or a malformed document. */
export function graphqlCases(schema: GraphQLSchema, ids: fc.Arbitrary<string>): fc.Arbitrary<GraphQLCase> {
  const roots: fc.Arbitrary<GraphQLCase>[] = [];
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  if (query) roots.push(rootCase('query', query, ids));
  if (mutation) roots.push(rootCase('mutation', mutation, ids));
  if (subscription) roots.push(rootCase('subscription', subscription, ids));
  return fc.oneof(...roots.map((arbitrary) => ({ arbitrary, weight: 3 })), { arbitrary: malformed, weight: 2 });
}

/** The variables parsed back, for GET's query string (invalid text is sent as is). */
function searchOf(c: GraphQLCase): string {
  const search = new URLSearchParams({ query: c.document });
  if (c.variables !== undefined) search.set('variables', c.variables);
  if (c.operationName) search.set('operationName', c.operationName);
  return search.toString();
}

function postBody(c: GraphQLCase): Buffer {
  const fields = [`"query":${JSON.stringify(c.document)}`];
  if (c.variables !== undefined && c.variables !== '') fields.push(`"variables":${c.variables}`);
  if (c.operationName) fields.push(`"operationName":${JSON.stringify(c.operationName)}`);
  return Buffer.from(`{${fields.join(',')}}`, 'utf8');
}

const ACCEPT_JSON = fc.constantFrom('application/graphql-response+json', 'application/json', '*/*', undefined);
/** On POST, HTML is refused (406); on GET it is GraphiQL's page, not the API, so GET does not ask for it. */
const ACCEPT_POST = fc.constantFrom(
  'application/graphql-response+json',
  'application/json',
  '*/*',
  'text/html',
  undefined,
);
const POST_TYPES = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'application/graphql',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);
const ENVIRONMENT = fc.option(fc.constantFrom('test', 'live', 'prod', ''), { freq: 3, nil: undefined });

function headers(entries: Record<string, string | undefined>, body?: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  if (body) out['content-length'] = String(body.length);
  return out;
}

/** A body that is broken as a whole: not JSON, not UTF-8, empty, an array (batching), wrong field types. */
const brokenBody = fc.oneof(
  brokenBytes(fc.record({ query: fc.constant('{ __typename }'), variables: fc.jsonValue({ maxDepth: 1 }) })),
  fc
    .constantFrom('[{"query":"{__typename}"}]', '{"query":1}', '{"query":null}', '{"query":{}}', '{}', '"x"')
    .map((t) => Buffer.from(t)),
  nastyString.map((s) => Buffer.from(JSON.stringify({ query: `{ __typename }`, operationName: s }))),
);

/**
 * Requests for one case over every transport: POST JSON (Content-Type and Accept variants), GET, yoga's SSE
 * (`Accept: text/event-stream`, POST and GET), graphql-sse's distinct mode at /graphql/stream (POST and GET); or a
 * broken body on any POST transport.
 */
export function graphqlRequests(schema: GraphQLSchema, ids: fc.Arbitrary<string>): fc.Arbitrary<FuzzRequest> {
  const cases = graphqlCases(schema, ids);
  const post = (path: string, accept: fc.Arbitrary<string | undefined>, type: fc.Arbitrary<string | undefined>) =>
    fc.tuple(cases, accept, type, ENVIRONMENT).map(([c, a, t, env]): FuzzRequest => {
      const body = postBody(c);
      return {
        method: 'POST',
        path,
        headers: headers({ accept: a, 'content-type': t, 'x-environment': env }, body),
        body,
        holdMs: c.holdMs,
      };
    });
  const get = (path: string, accept: fc.Arbitrary<string | undefined>) =>
    fc.tuple(cases, accept, ENVIRONMENT).map(
      ([c, a, env]): FuzzRequest => ({
        method: 'GET',
        path: `${path}?${searchOf(c)}`,
        headers: headers({ accept: a, 'x-environment': env }),
        holdMs: c.holdMs,
      }),
    );
  const broken = fc
    .tuple(
      fc.constantFrom('/graphql', '/graphql/stream'),
      brokenBody,
      fc.constantFrom('application/json', 'text/event-stream'),
    )
    .map(
      ([path, body, accept]): FuzzRequest => ({
        method: 'POST',
        path,
        headers: headers({ accept, 'content-type': 'application/json' }, body),
        body,
      }),
    );
  const sse = fc.constant('text/event-stream');
  return fc.oneof(
    { weight: 4, arbitrary: post('/graphql', ACCEPT_POST, POST_TYPES) },
    { weight: 2, arbitrary: get('/graphql', ACCEPT_JSON) },
    { weight: 2, arbitrary: post('/graphql', sse, fc.constant('application/json')) },
    { weight: 1, arbitrary: get('/graphql', sse) },
    { weight: 2, arbitrary: post('/graphql/stream', sse, fc.constant('application/json')) },
    { weight: 1, arbitrary: get('/graphql/stream', sse) },
    { weight: 1, arbitrary: broken },
  );
}
