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
let loading: Promise<void> | null = null;

/**
 * graphql-jit (with ajv and fast-json-stringify, ~400 KB of code) is loaded on the first document, not at start: an
 * idle server does not hold it. Resolves once it is loaded (tests await it, so that no timing-sensitive test pays
 * the one-time load).
 */
export function loadCompiler(): Promise<void> {
  loading ??= import('graphql-jit').then((m) => {
    jit = m;
  });
  return loading;
}

/** graphql-jit once `loadCompiler` has loaded it (the lean SSE path compiles change streams' documents with it). */
export function loadedCompiler(): Jit | null {
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
    void loadCompiler();
    const compiler = jit;
    let prepared: PreparedDocument | null = null;
    let compilerMissing = false;
    try {
      const document = parse(query, { maxTokens: DOCUMENT_LIMITS.tokens });
      const enveloped = yoga.getEnveloped({ params: { query, operationName } } as never);
      const errors = enveloped.validate(enveloped.schema, document) as readonly GraphQLError[];
      const operation = errors.length === 0 ? getOperationAST(document, operationName) : null;
      if (operation?.operation === 'subscription') prepared = { document, operation };
      else if (operation && !compiler) compilerMissing = true;
      else if (operation && compiler) {
        const compiled = compiler.compileQuery(enveloped.schema, document, operationName);
        if (compiler.isCompiledQuery(compiled)) prepared = { document, operation, compiled };
      }
    } catch {
      prepared = null;
    }
    if (compilerMissing) return null; // graphql-jit still loading: yoga answers this one; not cached
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, prepared);
    return prepared;
  };
}

export type DocumentCache = ReturnType<typeof createDocumentCache>;
