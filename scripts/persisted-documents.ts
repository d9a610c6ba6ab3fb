import { createHash } from 'node:crypto';
import * as cli from '../src/cli/documents.js';
import * as documents from '../src/client/documents.js';
import * as logEvents from '../src/client/log-events.js';
import { keyOf } from '../src/client/persisted.js';
import * as runModel from '../src/client/run-model.js';
import * as sdk from '../src/client/sdk/documents.js';
import { textOf } from '../src/client/sdk/transport.js';
import { EXAMPLE_OPERATIONS } from '../src/graphql/graphiql.js';

/**
 * Trusted documents (issue 21, item 3): every document the dashboard and the CLI send, as they send it (a string as
 * written, a typed document printed by `textOf`), with its id, `sha256:` and the hex SHA-256 of that text (the
 * GraphQL over HTTP persisted-documents convention). GraphiQL's example operations are in it too, so that they run
 * on a server that requires persisted documents. Used by the builds: the manifest the server loads
 * (src/graphql/persisted-documents.json, written by `npm run ui:build`) and the table each bundle carries
 * (`idTable`, given to esbuild as `__VIGIL_DOCUMENT_IDS__`).
 */
export function persistedDocuments(): Map<string, string> {
  const texts = new Set<string>([EXAMPLE_OPERATIONS]);
  for (const mod of [documents, runModel, logEvents] as Record<string, unknown>[]) {
    for (const value of Object.values(mod)) {
      if (typeof value === 'string' && /^\s*(query|mutation|subscription)\b/.test(value)) texts.add(value);
    }
  }
  for (const mod of [sdk, cli] as Record<string, unknown>[]) {
    for (const value of Object.values(mod)) {
      const doc = value as { kind?: string; definitions?: { kind: string }[] };
      if (doc?.kind === 'Document' && doc.definitions?.some((d) => d.kind === 'OperationDefinition')) {
        texts.add(textOf(value as Parameters<typeof textOf>[0]));
      }
    }
  }
  const manifest = new Map<string, string>();
  for (const text of [...texts].sort()) {
    manifest.set(`sha256:${createHash('sha256').update(text).digest('hex')}`, text);
  }
  return manifest;
}

/** The server's manifest as written: id → text, sorted by id, so that the file is the same for the same sources. */
export function manifestJson(manifest: Map<string, string>): string {
  const sorted = [...manifest].sort(([a], [b]) => (a < b ? -1 : 1));
  return `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`;
}

/** What a bundle carries: `keyOf(text)` → id (src/client/persisted.ts); fails if two texts share a key. */
export function idTable(manifest: Map<string, string>): Record<string, string> {
  const table: Record<string, string> = {};
  for (const [id, text] of manifest) {
    const key = keyOf(text);
    if (table[key]) throw new Error(`two persisted documents share the key ${key}`);
    table[key] = id;
  }
  return table;
}
