import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPrincipal, type Principal, type Scope } from '../../src/domain/access.js';
import { httpStatusOf, VigilError } from '../../src/domain/errors.js';
import { registerWebhooks, type WebhookRestEnv } from '../../src/rest/webhooks.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { createExecution, ok, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, startHookServer } from './support.js';

/**
 * The REST mirror mounted as the REST edge will mount it (its own app lives on another branch): an authentication
 * middleware that sets `principal` (here from test headers), and an onError that maps a VigilError to its status.
 */
function restApp(s: TestServer) {
  const app = new OpenAPIHono<WebhookRestEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new VigilError('VALIDATION_FAILED', result.error.message);
    },
  });
  app.onError((err, c) =>
    err instanceof VigilError
      ? c.json({ error_code: err.code, detail: err.message }, httpStatusOf(err.code) as 400)
      : c.json({ error_code: 'INTERNAL', detail: String(err) }, 500),
  );
  app.use('/api/*', async (c, next) => {
    const p: Principal = {
      ...openPrincipal(),
      organizationId: c.req.header('x-org') ?? 'default',
      scopes: new Set((c.req.header('x-scopes') ?? 'executions:admin').split(',') as Scope[]),
    };
    c.set('principal', p);
    await next();
  });
  registerWebhooks(app, s.domain);
  return app;
}

describe('REST /api/v1/webhooks', () => {
  let s: TestServer;
  let rx: Receiver;
  let app: ReturnType<typeof restApp>;
  beforeAll(async () => {
    s = await startHookServer('pglite');
    rx = await startReceiver();
    app = restApp(s);
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error_code?: string } };
  };

  it('registers, lists, shows deliveries with their attempts, redelivers and deletes', async () => {
    const created = await call('POST', '/api/v1/webhooks', {
      url: rx.url,
      events: ['execution.terminal'],
      filter: { workflow_id: 'wf-rest', status: ['COMPLETED'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: rx.url,
      events: ['execution.terminal'],
      filter: { workflow_id: 'wf-rest', status: ['COMPLETED'] },
      enabled: true,
    });
    const { id, secret } = created.body as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const listed = await call('GET', '/api/v1/webhooks');
    expect(listed.body.webhooks).toEqual([expect.objectContaining({ id })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const exec = await createExecution(s, { workflowId: 'wf-rest' });
    ok(await s.gql(COMPLETE, { id: exec.id }));
    const [got] = await rx.waitFor(1, () => true, 2000);
    expect(verifySignature(secret, String(got?.headers['vigil-signature']), got?.raw ?? '')).toBe(true);

    let page = await call('GET', `/api/v1/webhooks/${id}/deliveries?first=10`);
    for (let i = 0; i < 50 && (page.body.deliveries as { status: string }[])[0]?.status !== 'SUCCEEDED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      page = await call('GET', `/api/v1/webhooks/${id}/deliveries?first=10`);
    }
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ has_more: false, next_cursor: null });
    const [delivery] = page.body.deliveries as { id: string; attempts: unknown[] }[];
    expect(delivery).toMatchObject({
      webhook_id: id,
      type: 'execution.terminal',
      execution_id: exec.id,
      status: 'SUCCEEDED',
      attempt_count: 1,
      attempts: [expect.objectContaining({ attempt: 1, status_code: 200, success: true })],
    });

    const again = await call('POST', `/api/v1/webhooks/deliveries/${delivery?.id}/redeliver`);
    expect(again.status).toBe(202);
    await rx.waitFor(2, () => true, 2000);

    expect((await call('DELETE', `/api/v1/webhooks/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/webhooks/${id}`)).body.error_code).toBe('NOT_FOUND');
  });

  it('answers 403 without executions:admin, 404 for another tenant, 422 for a bad body', async () => {
    const { body } = await call('POST', '/api/v1/webhooks', { url: rx.url, events: ['execution.terminal'] });
    const id = String(body.id);
    const read = { 'x-scopes': 'executions:read,executions:write' };
    expect(await call('GET', '/api/v1/webhooks', undefined, read)).toMatchObject({
      status: 403,
      body: { error_code: 'FORBIDDEN' },
    });
    const other = { 'x-org': 'globex' };
    expect(await call('DELETE', `/api/v1/webhooks/${id}`, undefined, other)).toMatchObject({ status: 404 });
    expect(await call('GET', `/api/v1/webhooks/${id}/deliveries`, undefined, other)).toMatchObject({ status: 404 });
    expect((await call('GET', '/api/v1/webhooks', undefined, other)).body.webhooks).toEqual([]);
    const bad = await call('POST', '/api/v1/webhooks', { url: rx.url, events: ['execution.nope'] });
    expect(bad).toMatchObject({ status: 422, body: { error_code: 'VALIDATION_FAILED' } });
    const refused = await call('POST', '/api/v1/webhooks', {
      url: 'http://169.254.169.254/',
      events: ['execution.terminal'],
    });
    expect(refused).toMatchObject({ status: 422, body: { error_code: 'VALIDATION_FAILED' } });
  });

  it('documents its routes in OpenAPI 3.1', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Vigil', version: '1' } });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      '/api/v1/webhooks',
      '/api/v1/webhooks/deliveries/{delivery_id}/redeliver',
      '/api/v1/webhooks/{webhook_id}',
      '/api/v1/webhooks/{webhook_id}/deliveries',
    ]);
  });
});
