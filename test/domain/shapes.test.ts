import { is, Placeholder } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../../src/domain/errors.js';
import { placeholdersOf, valuesOf } from '../../src/domain/shapes.js';

/** A list's or count's statement is built once per shape: the names of its values, each a placeholder of that name. */
describe('the shape of a read', () => {
  const args = (value: string, status: string[], after?: { createdAt: string; id: string }) => ({
    tenant: { org: 'acme', env: 'test' },
    filter: { tags: [{ key: 'customer', value }], status },
    after,
  });

  it('names every value by its path, and reads of the same fields share a shape', () => {
    const a = valuesOf(args('c1', ['RUNNING']));
    expect(a.values).toEqual({
      'tenant.org': 'acme',
      'tenant.env': 'test',
      'filter.tags.0.key': 'customer',
      'filter.tags.0.value': 'c1',
      'filter.status.0': 'RUNNING',
    });
    expect(valuesOf(args('c2', ['FAILED'])).shape).toBe(a.shape);
  });

  it('gives another shape to another number of statuses or pairs, or to a cursor', () => {
    const shape = valuesOf(args('c1', ['RUNNING'])).shape;
    expect(valuesOf(args('c1', ['RUNNING', 'FAILED'])).shape).not.toBe(shape);
    expect(valuesOf(args('c1', [])).shape).not.toBe(shape);
    expect(valuesOf(args('c1', ['RUNNING'], { createdAt: '2026-01-01T00:00:00.000Z', id: 'x' })).shape).not.toBe(shape);
    const two = {
      ...args('c1', []),
      filter: {
        tags: [
          { key: 'a', value: 'b' },
          { key: 'c', value: 'd' },
        ],
      },
    };
    expect(valuesOf(two).shape).not.toBe(valuesOf(args('c1', [])).shape);
  });

  it('puts a placeholder of the same name in place of each value', () => {
    const bound = placeholdersOf(args('c1', ['RUNNING']));
    const leaves = [bound.tenant.org, bound.tenant.env, bound.filter.tags[0]?.value, bound.filter.status[0]];
    for (const leaf of leaves) expect(is(leaf, Placeholder)).toBe(true);
    const names = leaves.map((leaf) => (leaf as unknown as Placeholder).name);
    expect(names).toEqual(['tenant.org', 'tenant.env', 'filter.tags.0.value', 'filter.status.0']);
  });

  it('refuses a value it could not name (a number), as an internal error', () => {
    expect(() => valuesOf({ first: 20 })).toThrow(VigilError);
  });
});
