import { persistedDocuments } from '../../scripts/persisted-documents.js';

const manifest = persistedDocuments();

/**
 * What requests carry, with each persisted id (`"documentId":"sha256:…"`, as the built dashboard and CLI send) replaced
 * by its document's text from the manifest, so that a test can look for the operations they ran.
 */
export function withDocuments(traffic: string): string {
  return traffic.replace(/"documentId":"(sha256:[0-9a-f]+)"/g, (_, id: string) =>
    JSON.stringify(manifest.get(id) ?? id),
  );
}
