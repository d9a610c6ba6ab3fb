import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';

/** The document limits of API.md §2; a document over one is refused before execution with VALIDATION_FAILED. */
export const DOCUMENT_LIMITS = { depth: 20, aliases: 30, tokens: 5000, directives: 50 } as const;

const asValidationFailed = (_ctx: unknown, error: GraphQLError) => {
  Object.assign(error.extensions, { code: 'VALIDATION_FAILED' });
};

export function useDocumentLimits() {
  return EnvelopArmorPlugin({
    maxDepth: {
      n: DOCUMENT_LIMITS.depth,
      ignoreIntrospection: false,
      flattenFragments: true,
      onReject: [asValidationFailed],
    },
    maxAliases: { n: DOCUMENT_LIMITS.aliases, onReject: [asValidationFailed] },
    maxTokens: { n: DOCUMENT_LIMITS.tokens, onReject: [asValidationFailed] },
    maxDirectives: { n: DOCUMENT_LIMITS.directives, onReject: [asValidationFailed] },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
}
