import { type DocumentNode, type GraphQLError, getOperationAST, type OperationDefinitionNode, parse } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { DOCUMENT_LIMITS } from './armor.js';
import type { VigilYoga } from './yoga.js';

export interface PreparedDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** graphql-jit's compiled form, for queries and mutations. */
  compiled?: CompiledQuery;
}

const CACHE_SIZE = 1000;

type Jit = typeof import('graphql-jit');
let jit: Jit | null = null;
let requested = false;
/**
 * graphql-jit (with ajv and fast-json-stringify, ~400 KB of code) is loaded on the first document, not at start: an
 * idle server does not hold it. Until it has loaded (tens of milliseconds, once), documents are not cached, so the
 * fast path leaves those first requests to yoga, which answers them the same way.
 */
function loadJit(): Jit | null {
  if (!requested) {
    requested = true;
    void import('graphql-jit').then((m) => {
      jit = m;
    });
  }
  return jit;
}

/**
 * Parsed, validated (through yoga's envelop, so armor's limits apply) and, for queries and mutations, compiled
 * documents, by text and operation name. Null for anything invalid: yoga then answers with the precise error.
 */
export function createDocumentCache(yoga: VigilYoga) {
  const cache = new Map<string, PreparedDocument | null>();
  return (query: string, operationName: string | undefined): PreparedDocument | null => {
    const key = operationName ? `${operationName}\u0000${query}` : query;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const compiler = loadJit();
    if (!compiler) return null;
    let prepared: PreparedDocument | null = null;
    try {
      const document = parse(query, { maxTokens: DOCUMENT_LIMITS.tokens });
      const enveloped = yoga.getEnveloped({ params: { query, operationName } } as never);
      const errors = enveloped.validate(enveloped.schema, document) as readonly GraphQLError[];
      const operation = errors.length === 0 ? getOperationAST(document, operationName) : null;
      if (operation?.operation === 'subscription') prepared = { document, operation };
      else if (operation) {
        const compiled = compiler.compileQuery(enveloped.schema, document, operationName);
        if (compiler.isCompiledQuery(compiled)) prepared = { document, operation, compiled };
      }
    } catch {
      prepared = null;
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, prepared);
    return prepared;
  };
}

export type DocumentCache = ReturnType<typeof createDocumentCache>;
