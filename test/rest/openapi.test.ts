import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutionInput, MAX_BATCH } from '../../src/domain/inputs.js';
import { startTestServer, type TestServer } from '../support/harness.js';

// biome-ignore lint/suspicious/noExplicitAny: walking a JSON document whose shape the assertions check
type Json = Record<string, any>;

const ROUTES = [
  ['post', '/api/v1/executions'],
  ['get', '/api/v1/executions'],
  ['post', '/api/v1/executions/wait'],
  ['get', '/api/v1/executions/changes'],
  ['post', '/api/v1/executions/{execution_id}/events'],
  ['post', '/api/v1/executions/{execution_id}/wait'],
  ['get', '/workflows/executions/{id}/wait'],
  ['get', '/api/v1/executions/{execution_id}/events'],
  ['get', '/api/v1/executions/{execution_id}/logs'],
  ['put', '/api/v1/executions/{execution_id}/pin'],
  ['delete', '/api/v1/executions/{execution_id}/pin'],
  ['patch', '/api/v1/executions/{execution_id}'],
  ['get', '/api/v1/executions/{executionId}'],
  ['post', '/api/v1/webhooks'],
  ['get', '/api/v1/webhooks'],
  ['delete', '/api/v1/webhooks/{webhook_id}'],
  ['get', '/api/v1/webhooks/{webhook_id}/deliveries'],
  ['post', '/api/v1/webhooks/deliveries/{delivery_id}/redeliver'],
] as const;

// The document does not depend on the database, so one server (PGlite) is enough here.
describe('the OpenAPI document and the reference page', () => {
  let s: TestServer;
  let doc: Json;
  beforeAll(async () => {
    s = await startTestServer('pglite');
    const res = await fetch(`${s.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBeTruthy();
    doc = (await res.json()) as Json;
  });
  afterAll(() => s.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    // The validator does reject a broken document (so this test can fail).
    const broken = structuredClone(doc);
    broken.paths['/api/v1/executions'].post.responses['201'] = { content: 'not an object' };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it.each(ROUTES)('has %s %s with its error responses', (method, path) => {
    const op = doc.paths[path]?.[method];
    expect(op, `${method} ${path}`).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '422', '429']));
    expect(op.responses['422'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/HTTPValidationError',
    );
  });

  it('has no route it does not serve', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as Json).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('documents the logs endpoint: text/plain, its query bounds and Vigil-Last-Sequence', () => {
    const op = doc.paths['/api/v1/executions/{execution_id}/logs'].get;
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/plain; charset=utf-8']);
    expect(Object.keys(op.responses['200'].headers)).toEqual(['Vigil-Last-Sequence']);
    const params = Object.fromEntries((op.parameters as Json[]).map((p) => [`${p.in}.${p.name}`, p.schema]));
    expect(params).toMatchObject({
      'query.after': { type: 'integer', minimum: 0 },
      'query.follow': { enum: ['true', 'false'], default: 'false' },
      'query.timeout': { minimum: 1, maximum: 3600, default: 300 },
    });
  });

  it('describes bodies with the domain schemas that validate them', () => {
    const create = doc.components.schemas.CreateExecutionInput;
    expect(Object.keys(create.properties).sort()).toEqual(Object.keys(createExecutionInput.shape).sort());
    expect(create.required).toEqual(['workflowId']);
    expect(create.additionalProperties).toBe(false);
    const batch = doc.components.schemas.RecordExecutionEventsRequest.properties.events;
    expect(batch.maxItems).toBe(MAX_BATCH);
    const wait = doc.components.schemas.ExecutionWaitRequest.properties.timeout;
    expect(wait).toMatchObject({ minimum: 1, maximum: 3600, default: 300 });
    const many = doc.components.schemas.ExecutionsWaitRequest.properties;
    expect(many.ids.anyOf?.[0] ?? many.ids).toMatchObject({ minItems: 1, maxItems: 1000 });
    expect(many.mode.enum).toEqual(expect.arrayContaining(['ALL', 'ANY']));
    expect(doc.components.schemas.ExecutionsWaitRequest.additionalProperties).toBe(false);
    const patch = doc.components.schemas.ExecutionStatusUpdateRequest.properties.status;
    expect(patch.enum).toEqual(['cancelled', 'failed', 'completed']);
  });

  it('documents the query and header parameters with their bounds', () => {
    const params = (method: string, path: string) =>
      Object.fromEntries((doc.paths[path][method].parameters as Json[]).map((p) => [`${p.in}.${p.name}`, p.schema]));
    expect(params('get', '/workflows/executions/{id}/wait')).toMatchObject({
      'path.id': { format: 'uuid' },
      'query.timeoutMs': { type: 'integer', minimum: 1000, maximum: 60000, default: 30000 },
    });
    expect(params('get', '/api/v1/executions/{execution_id}/events')).toMatchObject({
      'query.timeout': { minimum: 1, maximum: 3600, default: 300 },
      'header.last-event-id': { minimum: 0 },
    });
    expect(Object.keys(doc.paths['/api/v1/executions/{execution_id}/events'].get.responses['200'].content)).toEqual([
      'text/event-stream',
    ]);
  });

  it('documents each seed vocabulary', () => {
    const schemas = doc.components.schemas;
    expect(schemas.WorkflowExecution.properties.status.enum.sort()).toEqual(
      ['abandoned', 'cancelled', 'completed', 'errored', 'running', 'timed_out', 'waiting_for_input'].sort(),
    );
    expect(schemas.ExecutionStatusUpdateResponse.properties.current_status.enum.sort()).toEqual(
      ['cancelled', 'completed', 'failed', 'interrupted', 'running'].sort(),
    );
    expect(schemas.FlowExecution.properties.status.enum.sort()).toEqual(
      ['cancelled', 'completed', 'failed', 'pending', 'running'].sort(),
    );
  });

  it('serves /docs as one self-contained HTML page listing every route', async () => {
    const res = await fetch(`${s.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    for (const [method, path] of ROUTES) {
      expect(html).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`);
    }
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/i); // works offline: nothing to fetch from elsewhere
  });
});
