import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
}

/** The dependency direction of ARCHITECTURE.md: edges → feed → domain → db, never back. */
const FORBIDDEN: Record<string, RegExp> = {
  'domain/': /\/(graphql|rest|http|feed|access|jobs|webhooks)\/|^graphql|^graphql-yoga|^hono|^node:http/,
  'db/': /\/(domain|graphql|rest|http|feed|access|jobs|webhooks)\//,
  'feed/': /\/(graphql|rest|http)\/|^graphql-yoga|^hono/,
  'webhooks/': /\/(graphql|rest|http)\/|^graphql-yoga|^hono/,
  'jobs/': /\/(graphql|rest|http)\/|^graphql-yoga|^hono/,
  // Access turns headers into a Principal or a VigilError; the edges decide how that is answered.
  'access/': /\/(graphql|rest|http|feed|jobs|webhooks)\/|^graphql|^hono|^node:http/,
  // The edge layer answers for the protocols; it never reaches into an adapter (server.ts wires them together).
  'http/': /\/(graphql|rest|feed|jobs|webhooks|db)\/|^graphql-yoga|^hono|^@hono/,
};

/**
 * What building an error answer looks like in source. Only `src/http/` builds one (`rest-errors.ts`,
 * `graphql-errors.ts`); everything else throws a VigilError or calls those functions. A zod schema describing the
 * REST body (`error_code: z.enum(…)`, for the OpenAPI document) is not a builder.
 */
const ERROR_BUILDERS: [what: string, pattern: RegExp][] = [
  ['a REST error body', /\berror_code\s*:(?!\s*z\.)/],
  ['a REST error body', /\bcorrelation_id\s*:(?!\s*z\.)/],
  ['a GraphQL errors list', /\berrors\s*:\s*\[/],
  ['a GraphQL error', /\bnew GraphQLError\s*\(/],
  ['a code in GraphQL extensions', /\bextensions\s*:\s*\{[^}]*\bcode\s*:/],
];

/**
 * Cycles left on purpose, each with its way out. graphql/http.ts (the lean paths' helpers) names yoga's type and
 * graphql-sse.ts takes its UTF-8 check: it goes when the lean/yoga decision moves to one place (issue 15).
 */
const KNOWN_CYCLES = ['graphql/yoga.ts → graphql/graphql-sse.ts → graphql/http.ts → graphql/yoga.ts'];

describe('architecture', () => {
  for (const [layer, pattern] of Object.entries(FORBIDDEN)) {
    it(`keeps src/${layer} free of the layers above it`, () => {
      const offending = files(join(SRC, layer)).flatMap((f) =>
        imports(f)
          .filter((i) => pattern.test(i))
          .map((i) => `${relative(SRC, f)} imports ${i}`),
      );
      expect(offending).toEqual([]);
    });
  }

  it('builds error answers only in the edge layer (src/http/)', () => {
    const outside = files(SRC).filter((f) => !relative(SRC, f).startsWith('http/'));
    const builders = outside.flatMap((f) => {
      const lines = readFileSync(f, 'utf8').split('\n');
      return ERROR_BUILDERS.flatMap(([what, pattern]) =>
        lines.flatMap((line, i) => (pattern.test(line) ? [`${relative(SRC, f)}:${i + 1} builds ${what}`] : [])),
      );
    });
    expect(builders).toEqual([]);
    // The check itself sees a builder where there is one.
    const inside = files(join(SRC, 'http')).map((f) => readFileSync(f, 'utf8'));
    expect(inside.some((text) => ERROR_BUILDERS[0]?.[1].test(text))).toBe(true);
    expect(inside.some((text) => ERROR_BUILDERS[3]?.[1].test(text))).toBe(true);
  });

  it('has no import cycles between source files', () => {
    const graph = new Map(
      files(SRC).map((f) => [
        f,
        imports(f)
          .filter((i) => i.startsWith('.'))
          .map((i) => join(dirname(f), i).replace(/\.js$/, '.ts')),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles.filter((c) => !KNOWN_CYCLES.includes(c))).toEqual([]);
  });

  it('keeps source files small', () => {
    const large = files(SRC)
      .map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 450);
    expect(large).toEqual([]);
  });
});
