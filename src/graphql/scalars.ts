import { Kind, valueFromASTUntyped } from 'graphql';
import { isoDateTime } from '../domain/inputs.js';
import { invalidValue } from '../http/graphql-errors.js';
import { builder } from './builder.js';

function toIso(value: unknown): string {
  if (typeof value === 'string' && isoDateTime.safeParse(value).success) return new Date(value).toISOString();
  throw invalidValue('DateTime must be an ISO 8601 string with a time zone, e.g. 2026-01-31T12:00:00Z');
}

/** ISO 8601 in UTC ending in `Z` on the wire (API.md §2); inputs are normalized to that form. */
builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC, e.g. 2026-01-31T12:00:00.000Z',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: toIso,
  parseLiteral: (ast) => toIso(ast.kind === Kind.STRING ? ast.value : null),
});

builder.scalarType('JSON', {
  description: 'Any JSON value',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});
