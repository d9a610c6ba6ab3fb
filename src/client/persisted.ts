/**
 * Trusted documents, the client's side: the dashboard and the CLI send a persisted document's id instead of its text
 * (`{"documentId": "sha256:<hex>", "variables": …}`, the GraphQL over HTTP persisted-documents convention that
 * gql.tada's `graphql.persisted` and graphql-yoga's persisted-operations plugin also use). Their builds
 * (scripts/persisted-documents.ts) hash every document they send: the dashboard's documents become their ids, and
 * the CLI's bundle gets `__VIGIL_DOCUMENT_IDS__`, a table from a short key of each text to its id; the server's
 * manifest holds the same ids with their texts.
 * Run from sources (tests, `tsx`) or as the `vigil/client` SDK, there is no table and the text is sent as before.
 */
declare const __VIGIL_DOCUMENT_IDS__: Record<string, string> | undefined;

const ids: Record<string, string> | undefined =
  typeof __VIGIL_DOCUMENT_IDS__ === 'undefined' ? undefined : __VIGIL_DOCUMENT_IDS__;

/**
 * The table's key of a text: its length and cyrb53 (a 53-bit string hash), so that the bundle does not carry every
 * text twice. The build fails if two of its documents share a key; a text the build did not see has no id.
 */
export function keyOf(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${text.length}.${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)}`;
}

/** The persisted id of a document the build saw, or undefined (the text is then sent). */
export function documentIdOf(text: string): string | undefined {
  return ids?.[keyOf(text)];
}

/**
 * A GraphQL-over-HTTP request body: the id of a persisted document as given (the dashboard's, replaced by their ids
 * at build), else the id the build's table has for the text, else the text.
 */
export function requestOf(
  query: string | { documentId: string },
  variables: Record<string, unknown>,
): { query: string; variables: Record<string, unknown> } | { documentId: string; variables: Record<string, unknown> } {
  if (typeof query !== 'string') return { documentId: query.documentId, variables };
  const documentId = documentIdOf(query);
  return documentId ? { documentId, variables } : { query, variables };
}
