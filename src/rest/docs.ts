import { EXECUTION_STATUSES } from '../domain/types.js';
import type { RestApp } from './context.js';
import { renderReference } from './reference.js';
import { SEED001_STATUS, SEED003_STATUS, SEED004_STATUS } from './vocabulary.js';

const vocabularyRows = EXECUTION_STATUSES.map(
  (s) => `| ${s} | ${SEED001_STATUS[s]} | ${SEED003_STATUS[s]} | ${SEED004_STATUS[s]} |`,
).join('\n');

const DESCRIPTION = `Vigil's REST surface: five compatibility adapters that answer exactly as the documents old clients
were written against (seeds 000–004), and the ingest endpoints for workers that do not speak GraphQL. Every
endpoint calls the same domain core as GraphQL (\`/graphql\`), so both behave the same.

Authentication: \`Authorization: Bearer <API key>\` and \`X-Environment: test|live\`. With auth off (the default
of \`npm start\` on loopback) neither is needed: the organization is \`default\` and the environment \`test\`.

Errors: \`{detail, error_code, correlation_id, timestamp}\`; validation errors are 422 with
\`detail: [{loc, msg, type}]\` (loc starts with body, query, path or header). Every response carries
\`X-Correlation-Id\` (echoed when the request sends one). Timestamps are ISO 8601 in UTC.

Status vocabularies of the adapters:

| Vigil | seed 001 | seed 002/003 | seed 004 |
|---|---|---|---|
${vocabularyRows}`;

/** `GET /openapi.json` (OpenAPI 3.1 generated from the route schemas) and `GET /docs` (the same, as HTML). */
export function registerDocs(app: RestApp): void {
  // Registered last, so every route is in it; built at start, so a schema the generator rejects fails the start.
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Vigil REST API', version: '1.0.0', description: DESCRIPTION },
    tags: [
      { name: 'Ingest (workers)', description: 'Create executions and report their events' },
      { name: 'Seed 000: wait', description: 'Block until an execution completes (CLI, CI scripts)' },
      { name: 'Seed 001: workflow long-poll', description: 'The whole workflow execution, camelCase' },
      { name: 'Seed 002: event stream', description: 'Server-Sent Events, resumable with Last-Event-ID' },
      { name: 'Seed 003: status update', description: 'Cancel, or mark stuck executions failed/completed' },
      { name: 'Seed 004: get execution', description: 'Poll an execution, with metrics and artifacts' },
    ],
  });
  const html = renderReference(document);
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(html));
}
