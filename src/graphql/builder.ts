import SchemaBuilder from '@pothos/core';
import type { GraphQLContext } from './context.js';

/** The one Pothos builder; it defines no types itself (each lives in its own file). */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: string; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({ defaultFieldNullability: false });

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
