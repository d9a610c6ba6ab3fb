import { readFileSync } from 'node:fs';
import { type DocumentNode, Kind, parse } from 'graphql';
import type { GraphQLParams, Plugin as YogaPlugin } from 'graphql-yoga';
import { VigilError } from '../domain/errors.js';
import { type ErrorLogger, toClientError } from '../http/graphql-errors.js';

/**
 * Trusted documents (issue 21, item 3): the dashboard and the CLI send `{"documentId": "sha256:<hex>"}` (GraphQL over
 * HTTP's persisted-documents convention; Apollo's `extensions.persistedQuery.sha256Hash` is read too), and the server
 * runs the text its manifest holds under that id. The manifest (`persisted-documents.json`, beside this module in
 * src/graphql/ and in dist/server/) is written by the builds from the documents those clients send
 * (scripts/persisted-documents.ts) and read once at start.
 *
 * `VIGIL_TRUSTED_DOCUMENTS=allow` (the default) runs both ids and documents sent as text (API users write their
 * own); `require` runs only the manifest's documents: by id, or sent as text that is one of them (GraphiQL's example
 * tab is in the manifest), plus introspection, so GraphiQL still loads the schema. Any other text is FORBIDDEN.
 *
 * Codes (API.md §4): an unknown or malformed id is VALIDATION_FAILED (422), as for a document that does not
 * validate: the request names a document this server does not have, and no code of the table is closer
 * (EXECUTION_NOT_FOUND is about executions). A text refused by `require` is FORBIDDEN (403): the request is
 * well-formed but this server's policy does not let it run, and the message names the setting.
 *
 * One resolver for every path: the lean paths (`leanParams`, before their own flow), yoga (`useTrustedDocuments`,
 * at `onParams`), graphql-sse (`resolveBody`, before the library parses the request). Not graphql-yoga's
 * `@graphql-yoga/plugin-persisted-operations`: it hooks yoga's `onParams` only, which neither the lean paths nor
 * graphql-sse's handler run, so it would have been a second implementation of the same rules beside this one.
 */
export type TrustedMode = 'allow' | 'require';

export interface TrustedDocuments {
  mode: TrustedMode;
  /** id (`sha256:<hex>`) → the document's text. */
  byId: ReadonlyMap<string, string>;
  /** The manifest's texts, which `require` accepts sent as text too. */
  texts: ReadonlySet<string>;
}

export const MANIFEST_URL = new URL('./persisted-documents.json', import.meta.url);

export function loadTrustedDocuments(mode: TrustedMode, url: URL = MANIFEST_URL): TrustedDocuments {
  let entries: [string, string][];
  try {
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
    entries = Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string');
  } catch (err) {
    throw new Error(`cannot read the manifest of trusted documents (${url.pathname}): ${(err as Error).message}`);
  }
  return { mode, byId: new Map(entries), texts: new Set(entries.map(([, text]) => text)) };
}

/** The parameters of a request, as far as trusted documents look at them. */
interface Params {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

const ID = /^sha256:[0-9a-f]{64}$/;

/** The persisted id a request names, `undefined` when it names none. */
function idOf(params: Params): unknown {
  if (params.documentId !== undefined && params.documentId !== null) return params.documentId;
  const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)
    ?.persistedQuery;
  if (persisted && typeof persisted === 'object') {
    return typeof persisted.sha256Hash === 'string' ? `sha256:${persisted.sha256Hash}` : persisted.sha256Hash;
  }
  return undefined;
}

/**
 * The request's parameters with `query` set to the document it may run: the manifest's text for an id (the id and
 * `persistedQuery` removed), the text as sent otherwise. Throws the contract's error for an unknown id and, with
 * `require`, for a text that is not the manifest's.
 */
export function resolveParams<P extends Params>(params: P, trusted: TrustedDocuments): P {
  const id = idOf(params);
  if (id === undefined) {
    if (typeof params.query === 'string') assertTrusted(params.query, trusted);
    return params;
  }
  const text = typeof id === 'string' && ID.test(id) ? trusted.byId.get(id) : undefined;
  if (text === undefined) {
    throw new VigilError('VALIDATION_FAILED', `Unknown persisted document ${JSON.stringify(id)}`, {
      issues: [{ loc: ['body', 'documentId'], msg: 'not a document of this server', type: 'value_error' }],
    });
  }
  const { documentId: _id, extensions, ...rest } = params;
  const { persistedQuery: _pq, ...otherExtensions } = (extensions ?? {}) as Record<string, unknown>;
  const resolved = { ...rest, query: text } as unknown as P;
  if (Object.keys(otherExtensions).length > 0) (resolved as Params).extensions = otherExtensions;
  return resolved;
}

/** With `require`: throws FORBIDDEN for a text that is neither one of the manifest's nor introspection. */
export function assertTrusted(query: string, trusted: TrustedDocuments): void {
  if (trusted.mode !== 'require' || trusted.texts.has(query) || isIntrospection(query)) return;
  throw new VigilError(
    'FORBIDDEN',
    'This server runs only persisted documents (VIGIL_TRUSTED_DOCUMENTS=require): send a documentId from its manifest',
  );
}

/** A document whose operations select only `__schema`, `__type` and `__typename` (GraphiQL loading the schema). */
function isIntrospection(query: string): boolean {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return false; // yoga answers the syntax error only to a caller allowed to send text; refused here
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  return (
    operations.length > 0 &&
    operations.every((op) =>
      op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')),
    )
  );
}

/** Cheap test before any parsing: a body that names no persisted document and needs no check goes on untouched. */
function concerns(body: string, trusted: TrustedDocuments): boolean {
  return trusted.mode === 'require' || body.includes('"documentId"') || body.includes('"persistedQuery"');
}

/**
 * For the lean paths (dispatch.ts): the body with a persisted id replaced by its document's text, the body itself
 * when nothing concerns trusted documents, or null when the body must go to yoga (an unknown id, a refused text,
 * anything malformed), which answers with the same resolver's error.
 */
export function leanBody(body: string, trusted: TrustedDocuments): string | null {
  if (!concerns(body, trusted)) return body;
  try {
    const params = JSON.parse(body) as Params;
    if (!params || typeof params !== 'object' || Array.isArray(params)) return null;
    const resolved = resolveParams(params, trusted);
    return resolved === params ? body : JSON.stringify(resolved);
  } catch {
    return null;
  }
}

/** For graphql-sse's POST bodies (graphql-sse.ts): as `leanBody`, but throws the refusal (it answers it itself). */
export function resolveBody(body: string, trusted: TrustedDocuments): string {
  if (!concerns(body, trusted)) return body;
  let params: Params;
  try {
    params = JSON.parse(body) as Params;
  } catch {
    return body; // the library answers a body that is not JSON
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) return body;
  const resolved = resolveParams(params, trusted);
  return resolved === params ? body : JSON.stringify(resolved);
}

/**
 * Yoga's side (every request yoga parses: GET, POST, its SSE): resolves at `onParams`, before yoga checks them. A
 * refused text is a refusal of the request (403, as an access refusal is); an unknown id a request error (the
 * GraphQL-over-HTTP rule for a document that does not validate).
 */
export function useTrustedDocuments(
  trusted: TrustedDocuments,
  log: ErrorLogger,
): YogaPlugin<Record<string, unknown>, { correlationId?: string }> {
  return {
    onParams({ params, setParams, context }) {
      let resolved: GraphQLParams;
      try {
        resolved = resolveParams(params as Params, trusted) as GraphQLParams;
      } catch (err) {
        const forbidden = err instanceof VigilError && err.code === 'FORBIDDEN';
        throw forbidden ? toClientError(err, context.correlationId, log, true) : err;
      }
      if (resolved !== params) setParams(resolved);
    },
  };
}
