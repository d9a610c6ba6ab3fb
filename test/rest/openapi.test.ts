import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutionInput, MAX_BATCH } from '../../src/domain/inputs.js';
import { startTestServer, type TestServer } from '../support/harness.js';

// biome-ignore lint/suspicious/noExplicitAny: walking a JSON document whose shape the assertions check
type Json = Record<string, any>;

/** Every operation, with the operationId a code generator names its method after. */
const OPERATIONS = [
  ['post', '/api/v1/executions', 'createExecution'],
  ['get', '/api/v1/executions', 'listExecutions'],
  ['post', '/api/v1/executions/wait', 'waitForExecutions'],
  ['get', '/api/v1/executions/changes', 'streamExecutionChanges'],
  ['post', '/api/v1/executions/{execution_id}/events', 'recordExecutionEvents'],
  ['post', '/api/v1/executions/{execution_id}/wait', 'waitForExecution'],
  ['get', '/workflows/executions/{id}/wait', 'waitForWorkflowExecution'],
  ['get', '/api/v1/executions/{execution_id}/events', 'streamExecutionEvents'],
  ['get', '/api/v1/executions/{execution_id}/logs', 'getExecutionLogs'],
  ['put', '/api/v1/executions/{execution_id}/pin', 'pinExecution'],
  ['delete', '/api/v1/executions/{execution_id}/pin', 'unpinExecution'],
  ['patch', '/api/v1/executions/{execution_id}', 'updateExecutionStatus'],
  ['get', '/api/v1/executions/{execution_id}', 'getExecution'],
  ['post', '/api/v1/webhooks', 'createWebhook'],
  ['get', '/api/v1/webhooks', 'listWebhooks'],
  ['delete', '/api/v1/webhooks/{webhook_id}', 'deleteWebhook'],
  ['get', '/api/v1/webhooks/{webhook_id}/deliveries', 'listWebhookDeliveries'],
  ['post', '/api/v1/webhooks/deliveries/{delivery_id}/redeliver', 'redeliverWebhookDelivery'],
] as const;
const ROUTES = OPERATIONS.map(([method, path]) => [method, path] as const);
const operations = (doc: Json) =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, op]) => ({ path, method, op: op as Json })),
  );

const REDOCLY = join(import.meta.dirname, '../../node_modules/@redocly/cli/bin/cli.js');
const CONFIG = join(import.meta.dirname, '../../redocly.yaml');
/** Root may cut the linter off every network (a namespace of its own), which proves it needs none. */
const OFFLINE = spawnSync('unshare', ['-n', 'true']).status === 0 ? ['unshare', '-n'] : [];

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
}

/** `redocly lint` of a document with the checkout's redocly.yaml, without telemetry or an update check. */
function lint(file: string): { status: number | null; problems: LintProblem[] } {
  const [command, ...args] = [
    ...OFFLINE,
    process.execPath,
    REDOCLY,
    'lint',
    file,
    '--config',
    CONFIG,
    '--format',
    'json',
  ];
  const run = spawnSync(command as string, args, {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    timeout: 60_000,
  });
  return { status: run.status, problems: (JSON.parse(run.stdout) as { problems: LintProblem[] }).problems };
}

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

  it('names every operation with a unique camelCase operationId', () => {
    const ids = operations(doc).map(({ method, path, op }) => [method, path, op.operationId]);
    expect(ids.sort()).toEqual(OPERATIONS.map((o) => [...o]).sort());
    for (const [, , id] of ids) expect(id).toMatch(/^[a-z][a-zA-Z]+$/);
  });

  it('has one path template per URL (OpenAPI 3.1 forbids two that differ only in parameter names)', () => {
    const shapes = Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, '{}'));
    expect(shapes.length).toBe(new Set(shapes).size);
  });

  it('says where the API is served', () => {
    expect(doc.servers[0]).toMatchObject({ url: '/' });
    expect(doc.servers[1]).toMatchObject({ url: 'http://{host}:{port}', variables: { port: { default: '4000' } } });
  });

  it('takes X-Environment as an optional header with its enum, and the key as the only security scheme', () => {
    expect(doc.components.parameters.Environment).toMatchObject({
      name: 'X-Environment',
      in: 'header',
      required: false,
      schema: { enum: ['test', 'live'] },
    });
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth']);
    for (const { method, path, op } of operations(doc)) {
      if (path === '/openapi.json' || path === '/docs') continue;
      expect(op.parameters, `${method} ${path}`).toContainEqual({ $ref: '#/components/parameters/Environment' });
      expect(op.security).toEqual([{ bearerAuth: [] }, {}]); // a key, or none while VIGIL_AUTH=off
    }
  });

  it('describes each event stream as text/event-stream items whose data names its schema', () => {
    const dataOf = (path: string) => {
      const items = doc.paths[path].get.responses['200'].content['text/event-stream'].schema.anyOf as Json[];
      return Object.fromEntries(
        items.flatMap((item) =>
          (item.properties.event.enum as string[]).map((event) => {
            const data = item.properties.data;
            expect(data).toMatchObject({ type: 'string', contentMediaType: 'application/json' });
            const name = String(data.contentSchema.$ref).split('/').pop() as string;
            expect(doc.components.schemas[name], name).toBeDefined();
            return [event, name];
          }),
        ),
      );
    };
    expect(dataOf('/api/v1/executions/{execution_id}/events')).toEqual({
      initiated: 'MessageEventData',
      processing: 'MessageEventData',
      completed: 'MessageEventData',
      failed: 'MessageEventData',
      status: 'StatusEventData',
      progress: 'ProgressEventData',
      step: 'StepEventData',
      tags: 'TagsEventData',
      log: 'LogEventData',
      error: 'ErrorResponse',
    });
    expect(doc.components.schemas.StatusEventData.properties.status.enum).toContain('cancelled');
    expect(dataOf('/api/v1/executions/changes')).toEqual({
      execution: 'ExecutionChangeEventData',
      error: 'ErrorResponse',
    });
    expect(doc.components.schemas.ExecutionChangeEventData.properties.execution.$ref).toBe(
      '#/components/schemas/Execution',
    );
  });

  it('has summaries that say what each endpoint does, the seed only as a note in the description', () => {
    for (const { method, path, op } of operations(doc)) {
      expect(op.summary, `${method} ${path}`).toMatch(/^[A-Z][a-z]+ .{10,}/);
      expect(op.summary).not.toMatch(/seed/i);
      expect((op.tags as string[]).join()).not.toMatch(/seed/i);
    }
    const noted = operations(doc).filter(({ op }) => /Compatibility note: .*seed 00\d/.test(op.description ?? ''));
    expect(noted.map(({ op }) => op.operationId).sort()).toEqual(
      [
        'getExecution',
        'streamExecutionEvents',
        'updateExecutionStatus',
        'waitForExecution',
        'waitForWorkflowExecution',
      ].sort(),
    );
  });

  it("passes Redocly's linter with no error, offline", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const run = lint(file);
      const found = (severity: string) =>
        run.problems.filter((p) => p.severity === severity).map((p) => `${p.ruleId}: ${p.message}`);
      expect(found('error')).toEqual([]);
      // The one warning left: the project has no license to name.
      expect(found('warn')).toEqual(['info-license: Info object should contain `license` field.']);
      expect(run.status).toBe(0);
      // The linter does fail a document with the faults it had (two templates for one path, no operationId).
      const broken = structuredClone(doc);
      broken.paths['/api/v1/executions/{executionId}'] = {
        get: { ...doc.paths['/api/v1/executions/{execution_id}'].get },
      };
      delete broken.paths['/api/v1/executions'].get.operationId;
      writeFileSync(file, JSON.stringify(broken));
      const again = lint(file);
      const rules = again.problems.filter((p) => p.severity === 'error');
      expect(rules.map((p) => p.ruleId)).toEqual(
        expect.arrayContaining(['no-identical-paths', 'operation-operationId']),
      );
      expect(again.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a method a path does not serve with 405 and Allow, on every path', async () => {
    const ID = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
    const templates = Object.entries(doc.paths as Json).map(([path, item]) => ({
      pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      methods: Object.keys(item as Json).map((m) => m.toUpperCase()),
    }));
    const served = ['/openapi.json', '/docs', ...Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, ID))];
    let checked = 0;
    for (const url of served) {
      // what the document says this URL answers (a literal path may also match a template)
      const documented = templates.filter((t) => t.pattern.test(url)).flatMap((t) => t.methods);
      const allow = new Set(url === '/openapi.json' || url === '/docs' ? ['GET'] : documented);
      if (allow.has('GET')) allow.add('HEAD');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        if (allow.has(method)) continue;
        const res = await fetch(`${s.url}${url}`, { method });
        const body = (await res.json()) as Json;
        expect([method, url, res.status, body.error_code]).toEqual([method, url, 405, 'VALIDATION_FAILED']);
        expect(res.headers.get('allow')).toBe([...allow].sort().join(', '));
        expect(body.detail).toContain(`${method} is not allowed here`);
        expect(body.correlation_id).toBe(res.headers.get('x-correlation-id'));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // an unknown path stays a 404
    const missing = await fetch(`${s.url}/api/v1/nothing-here`, { method: 'DELETE' });
    expect([missing.status, ((await missing.json()) as Json).error_code]).toEqual([404, 'NOT_FOUND']);
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
