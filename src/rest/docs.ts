import { EXECUTION_STATUSES } from '../domain/types.js';
import type { RestApp } from './context.js';
import { renderReference } from './reference.js';
import { ENVIRONMENT_PARAMETER } from './schemas.js';
import { SEED001_STATUS, SEED003_STATUS, SEED004_STATUS } from './vocabulary.js';

const vocabularyRows = EXECUTION_STATUSES.map(
  (s) => `| ${s} | ${SEED001_STATUS[s]} | ${SEED003_STATUS[s]} | ${SEED004_STATUS[s]} |`,
).join('\n');

const DESCRIPTION = `Vigil tracks executions (runs of workflows, pipelines, jobs): workers create them and report
their progress, and clients read them, wait for them, follow them live and cancel them. Every endpoint calls the
same domain core as GraphQL (\`/graphql\`), so both behave the same. Some endpoints keep the exact shape of an
older client's document (seeds 000–004); their descriptions say so in a compatibility note.

Authentication: \`Authorization: Bearer <API key>\` and \`X-Environment: test|live\`. With auth off (the default
of \`npm start\` on loopback) neither is needed: the organization is \`default\` and the environment \`test\`.
A method a path does not serve is 405 with \`Allow\` (error_code \`VALIDATION_FAILED\`).

Errors: \`{detail, error_code, correlation_id, timestamp}\`; validation errors are 422 with
\`detail: [{loc, msg, type}]\` (loc starts with body, query, path or header). Every response carries
\`X-Correlation-Id\` (echoed when the request sends one). Timestamps are ISO 8601 in UTC.

Status vocabularies of the adapters:

| Vigil | seed 001 | seed 002/003 | seed 004 |
|---|---|---|---|
${vocabularyRows}`;

const SERVERS = [
  { url: '/', description: 'The Vigil server this document came from' },
  {
    url: 'http://{host}:{port}',
    description: 'Another Vigil server (the defaults are those of `npm start`)',
    variables: { host: { default: '127.0.0.1' }, port: { default: '4000' } },
  },
];

type Json = Record<string, unknown>;

/** Adds `X-Environment` to every authenticated operation (see ENVIRONMENT_PARAMETER). */
function withEnvironment(document: { paths?: unknown; components?: unknown }): void {
  const components = (document.components ?? {}) as Json;
  components.parameters = { ...(components.parameters as Json), Environment: ENVIRONMENT_PARAMETER };
  document.components = components;
  for (const item of Object.values((document.paths ?? {}) as Record<string, Json>)) {
    for (const op of Object.values(item) as Json[]) {
      if (!op.security) continue;
      op.parameters = [...((op.parameters as unknown[]) ?? []), { $ref: '#/components/parameters/Environment' }];
    }
  }
}

/** `GET /openapi.json` (OpenAPI 3.1 generated from the route schemas) and `GET /docs` (the same, as HTML). */
export function registerDocs(app: RestApp): void {
  // Registered last, so every route is in it; built at start, so a schema the generator rejects fails the start.
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Vigil REST API', version: '1.0.0', description: DESCRIPTION },
    servers: SERVERS,
    tags: [
      { name: 'Workers', description: 'Create executions and report their progress' },
      { name: 'Executions', description: 'Read, list and cancel executions' },
      { name: 'Waiting and streaming', description: 'Wait for executions to end, or follow them live' },
      { name: 'Webhooks', description: 'Have Vigil push status changes to your URL' },
    ],
  });
  withEnvironment(document);
  const html = renderReference(document);
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(html));
}
