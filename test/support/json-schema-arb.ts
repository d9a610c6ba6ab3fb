import fc from 'fast-check';

/**
 * fast-check arbitraries from the JSON Schema subset an OpenAPI 3.1 document of @hono/zod-openapi uses (type, enum,
 * properties, required, additionalProperties, items, min/max, lengths, formats uuid and date-time, anyOf, $ref).
 * Hand-written: the one published converter (json-schema-fast-check) is built on fast-check 1 and unmaintained.
 */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
};

export type Resolve = (ref: string) => JsonSchema;

/** Strings a schema of type string may get beyond its format: edge cases servers mishandle. */
export const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '%', '%00', '../..', '\u202e', '💥', 'null', 'NaN', '-1', '1e309', '0x10'),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '2024-02-30T00:00:00Z',
    '1970-01-01T00:00:00+14:00',
  ),
  { arbitrary: fc.integer({ min: 1_000, max: 12_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** Rarely, a string past node's 16 KiB header limit when it lands in a URL (answered by node's HTTP parser). */
export const hugeString = fc.oneof(
  { arbitrary: nastyString, weight: 30 },
  { arbitrary: fc.integer({ min: 17_000, max: 80_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

const dateTime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

function types(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.properties) return ['object'];
  return [];
}

/** A value that `schema` accepts (as far as its keywords say); `ids` feeds uuid-formatted strings. */
export function valid(
  schema: JsonSchema,
  resolve: Resolve,
  ids: fc.Arbitrary<string>,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.$ref) return valid(resolve(schema.$ref), resolve, ids, depth);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valid(s, resolve, ids, depth)));
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf), resolve, ids, depth);
  const options = types(schema);
  if (options.length === 0) return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 3 }); // `{}`: any JSON
  return fc.oneof(...options.map((type) => validOfType(type, schema, resolve, ids, depth)));
}

function validOfType(
  type: string,
  schema: JsonSchema,
  resolve: Resolve,
  ids: fc.Arbitrary<string>,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'string':
      if (schema.format === 'uuid') return ids;
      if (schema.format === 'date-time') return dateTime;
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case 'array': {
      const items = schema.items ? valid(schema.items, resolve, ids, depth + 1) : fc.jsonValue({ maxDepth: 2 });
      const maxLength = Math.min(schema.maxItems ?? 4, 4);
      return fc.array(items, { minLength: Math.min(schema.minItems ?? 0, maxLength), maxLength });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) model[name] = valid(property, resolve, ids, depth + 1);
      const requiredKeys = Object.keys(properties).filter((k) => required.has(k));
      return fc.record(model, { requiredKeys });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value of the wrong JSON type for most schemas. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 31, 1e308, -1e308),
  nastyString,
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** Where in a JSON value something can be changed: a path to a node, and whether it is an object. */
function nodes(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const here = [path];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => nodes(v, [...path, i])));
  if (value && typeof value === 'object') {
    return here.concat(...Object.entries(value).map(([k, v]) => nodes(v, [...path, k])));
  }
  return here;
}

function setAt(value: unknown, path: (string | number)[], replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(value);
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head as string] = setAt(copy[head as string], rest, replace);
  return copy;
}

const DEEP = '\u0000deep\u0000';
/** The body as bytes: JSON text, with `DEEP` markers expanded to `depth` nested arrays (beyond any stringify). */
function encode(value: unknown, depth: number): Buffer {
  const text = JSON.stringify(value) ?? '';
  return Buffer.from(text.replace(JSON.stringify(DEEP), `${'['.repeat(depth)}${']'.repeat(depth)}`), 'utf8');
}

/** One change to a valid value at a random node: wrong type, extra field, missing field, huge string, deep nesting. */
export function mutated(validValue: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return validValue.chain((value) => {
    const paths = nodes(value);
    return fc.tuple(fc.constantFrom(...paths), fc.nat(), fc.integer({ min: 0, max: 5 })).chain(([path, pick, kind]) => {
      switch (kind) {
        case 0:
          return wrongType.map((w) =>
            encode(
              setAt(value, path, () => w),
              0,
            ),
          );
        case 1:
          return fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) =>
            encode(
              setAt(value, path, (old) =>
                old && typeof old === 'object' && !Array.isArray(old) ? { ...old, [k || 'extra']: v } : old,
              ),
              0,
            ),
          );
        case 2: {
          const parent = path.slice(0, -1);
          const key = path[path.length - 1];
          if (key === undefined) return fc.constant(encode(value, 0));
          return fc.constant(
            encode(
              setAt(value, parent, (old) => {
                if (Array.isArray(old)) return old.filter((_, i) => i !== key);
                const { [key]: _dropped, ...rest } = old as Record<string, unknown>;
                return rest;
              }),
              0,
            ),
          );
        }
        case 3:
          return fc.constantFrom(70_000, 1_100_000).map((n) =>
            encode(
              setAt(value, path, () => 'x'.repeat(n + (pick % 100))),
              0,
            ),
          );
        case 4:
          return fc.constantFrom(100, 10_000, 200_000).map((depth) =>
            encode(
              setAt(value, path, () => DEEP),
              depth,
            ),
          );
        default:
          return fc.constant(encode(value, 0));
      }
    });
  });
}

/** Bytes that are not a JSON document, or not UTF-8: truncation, garbage, invalid sequences, BOM, nothing. */
export function brokenBytes(validValue: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.tuple(validValue, fc.nat(), fc.integer({ min: 0, max: 5 })).map(([value, at, kind]) => {
    const text = Buffer.from(JSON.stringify(value) ?? '', 'utf8');
    const cut = text.length === 0 ? 0 : at % text.length;
    const bad = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]);
    switch (kind) {
      case 0:
        return text.subarray(0, cut);
      case 1:
        return Buffer.concat([text.subarray(0, cut), Buffer.from('}{,"\\u12'), text.subarray(cut)]);
      case 2: {
        const quote = text.indexOf(0x22, cut);
        const i = quote === -1 ? cut : quote + 1;
        return Buffer.concat([text.subarray(0, i), bad, text.subarray(i)]);
      }
      case 3:
        return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]);
      case 4:
        return Buffer.alloc(0);
      default:
        return Buffer.from('a=1&b=2', 'utf8');
    }
  });
}
