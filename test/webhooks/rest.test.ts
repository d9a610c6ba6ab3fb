import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.js';
import { createExecution, DB_KINDS, ok, type TestServer } from '../support/harness.js';
import { makeKey, type TestKey } from '../support/keys.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { rest } from '../support/rest.js';
import { COMPLETE, startHookServer } from './support.js';

type Json = Record<string, unknown>;

describe.each(DB_KINDS)('REST /api/v1/webhooks on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  let admin: TestKey;
  let writer: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    s = await startHookServer(kind, { env: { VIGIL_AUTH: 'on' } });
    rx = await startReceiver();
    admin = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin']);
    writer = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
    other = await makeKey(s, 'globex', ['executions:read', 'executions:write', 'executions:admin']);
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });
  const as = (key: TestKey) => ({ headers: key.headers });

  it('registers, lists, pages deliveries with their attempts, redelivers and deletes', async () => {
    const created = await rest<Json>(s, 'POST', '/api/v1/webhooks', {
      ...as(admin),
      json: { url: rx.url, events: ['execution.terminal'], filter: { workflow_id: 'wf-rest', status: ['COMPLETED'] } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: rx.url,
      events: ['execution.terminal'],
      filter: { workflow_id: 'wf-rest', status: ['COMPLETED'] },
      enabled: true,
      disabled_at: null,
    });
    const { id, secret } = created.body as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const listed = await rest<{ webhooks: Json[] }>(s, 'GET', '/api/v1/webhooks', as(admin));
    expect(listed.body.webhooks.map((w) => w.id)).toEqual([id]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const exec = await createExecution(s, { workflowId: 'wf-rest' }, admin.headers);
    ok(await s.gql(COMPLETE, { id: exec.id }, admin.headers));
    const [got] = await rx.waitFor(1, () => true, 2000);
    expect(verifySignature(secret, String(got?.headers['vigil-signature']), got?.raw ?? '')).toBe(true);

    const path = `/api/v1/webhooks/${id}/deliveries?first=10`;
    let page = await rest<{ deliveries: Json[]; has_more: boolean; next_cursor: string | null }>(
      s,
      'GET',
      path,
      as(admin),
    );
    for (let i = 0; i < 50 && page.body.deliveries[0]?.status !== 'SUCCEEDED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      page = await rest(s, 'GET', path, as(admin));
    }
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ has_more: false, next_cursor: null });
    const [delivery] = page.body.deliveries;
    expect(delivery).toMatchObject({
      id: got?.body.id,
      webhook_id: id,
      type: 'execution.terminal',
      execution_id: exec.id,
      status: 'SUCCEEDED',
      attempt_count: 1,
      attempts: [expect.objectContaining({ attempt: 1, status_code: 200, success: true })],
    });
    expect((delivery?.payload as Json | undefined)?.data).toMatchObject({
      execution: { id: exec.id, status: 'COMPLETED' },
    });

    const again = await rest(s, 'POST', `/api/v1/webhooks/deliveries/${delivery?.id}/redeliver`, as(admin));
    expect(again).toMatchObject({ status: 202, body: { id: delivery?.id, status: 'PENDING' } });
    await rx.waitFor(2, () => true, 2000);

    expect((await rest(s, 'DELETE', `/api/v1/webhooks/${id}`, as(admin))).status).toBe(200);
    expect(await rest(s, 'DELETE', `/api/v1/webhooks/${id}`, as(admin))).toMatchObject({
      status: 404,
      body: { error_code: 'NOT_FOUND' },
    });
  });

  it('answers 403 without executions:admin, 404 for another tenant, 422 for a bad body or a refused target', async () => {
    const { body } = await rest<Json>(s, 'POST', '/api/v1/webhooks', {
      ...as(admin),
      json: { url: rx.url, events: ['execution.terminal'] },
    });
    const id = String(body.id);
    expect(await rest(s, 'GET', '/api/v1/webhooks', as(writer))).toMatchObject({
      status: 403,
      body: { error_code: 'FORBIDDEN' },
    });
    expect(
      await rest(s, 'POST', '/api/v1/webhooks', {
        ...as(writer),
        json: { url: rx.url, events: ['execution.terminal'] },
      }),
    ).toMatchObject({ status: 403 });
    expect(await rest(s, 'DELETE', `/api/v1/webhooks/${id}`, as(other))).toMatchObject({ status: 404 });
    expect(await rest(s, 'GET', `/api/v1/webhooks/${id}/deliveries`, as(other))).toMatchObject({ status: 404 });
    expect((await rest<{ webhooks: Json[] }>(s, 'GET', '/api/v1/webhooks', as(other))).body.webhooks).toEqual([]);
    const bad = await rest<{ detail: { loc: unknown[] }[] }>(s, 'POST', '/api/v1/webhooks', {
      ...as(admin),
      json: { url: rx.url, events: ['execution.nope'] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0]?.loc).toEqual(['body', 'events', 0]);
    const refused = await rest<{ detail: { loc: unknown[]; msg: string }[] }>(s, 'POST', '/api/v1/webhooks', {
      ...as(admin),
      json: { url: 'http://169.254.169.254/', events: ['execution.terminal'] },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0]).toMatchObject({ loc: ['body', 'url'], msg: expect.stringMatching(/metadata/) });
    expect(
      (
        await rest(s, 'POST', '/api/v1/webhooks', {
          ...as(admin),
          raw: '{nope',
          headers: { ...admin.headers, 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(422);
    await rest(s, 'DELETE', `/api/v1/webhooks/${id}`, as(admin));
  });
});
