import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * `graphql()` for the SDK's documents: gql.tada parses each document's text at the type level against
 * `graphql-env.d.ts` (the introspection of schema.graphql, written by `npx gql-tada generate output`), so a result's
 * type follows the schema: a field renamed there breaks `npm run typecheck` here, not a user at run time.
 * Fragments are not masked: a result holds its fragments' fields as plain properties.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { DateTime: string; JSON: unknown; ID: string };
}>();

export type { ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';
