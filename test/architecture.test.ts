import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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
  'domain/': /\/(graphql|rest|feed|access|jobs|webhooks)\/|^graphql|^graphql-yoga|^hono|^node:http/,
  'db/': /\/(domain|graphql|rest|feed|access|jobs|webhooks)\//,
  'feed/': /\/(graphql|rest)\/|^graphql-yoga|^hono/,
  'webhooks/': /\/(graphql|rest)\/|^graphql-yoga|^hono/,
};

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

  it('keeps source files small', () => {
    const large = files(SRC)
      .map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 450);
    expect(large).toEqual([]);
  });
});
