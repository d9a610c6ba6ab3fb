import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhooks } from '../../src/db/schema.js';
import { vettingLookup } from '../../src/webhooks/address.js';
import { createPoster } from '../../src/webhooks/post.js';
import { codeOf, createExecution, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, type TestKey } from '../support/keys.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { COMPLETE, CREATE_WEBHOOK, createWebhook, deliveries, eventually, startHookServer } from './support.js';

const UNKNOWN = '01900000-0000-7000-8000-000000000000';

/** Every webhook operation; each needs executions:admin (API.md §7). */
const OPERATIONS: [
  string,
  (s: TestServer, ids: { webhook: string; delivery: string }, h: Record<string, string>) => Promise<unknown>,
][] = [
  [
    'createWebhook',
    (s, _ids, h) =>
      s.gql(CREATE_WEBHOOK, { input: { url: 'http://127.0.0.1:9/x', events: ['execution.terminal'] } }, h),
  ],
  ['webhooks', (s, _ids, h) => s.gql('{ webhooks { id } }', {}, h)],
  [
    'webhookDeliveries',
    (s, ids, h) =>
      s.gql('query($id: ID!) { webhookDeliveries(webhookId: $id) { nodes { id } } }', { id: ids.webhook }, h),
  ],
  [
    'redeliverWebhook',
    (s, ids, h) => s.gql('mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: ids.delivery }, h),
  ],
  [
    'deleteWebhook',
    (s, ids, h) => s.gql('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: ids.webhook }, h),
  ],
];

describe.each(DB_KINDS)('managing webhooks on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  let admin: TestKey;
  const keys: Partial<Record<string, TestKey>> = {};
  let ids: { webhook: string; delivery: string };
  beforeAll(async () => {
    s = await startHookServer(kind, { env: { VIGIL_AUTH: 'on' } });
    rx = await startReceiver();
    admin = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin']);
    keys.read = await makeKey(s, 'acme', ['executions:read']);
    keys.write = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
    keys.otherOrg = await makeKey(s, 'globex', ['executions:read', 'executions:write', 'executions:admin']);
    keys.otherEnv = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin'], ['live']);
    const hook = await createWebhook(s, { url: rx.url }, admin.headers);
    const { id } = await createExecution(s, {}, admin.headers);
    ok(await s.gql(COMPLETE, { id }, admin.headers));
    const [d] = await eventually(
      () => deliveries(s, hook.id, admin.headers),
      (l) => l[0]?.status === 'SUCCEEDED',
    );
    ids = { webhook: hook.id, delivery: d?.id ?? '' };
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  for (const [name, run] of OPERATIONS) {
    for (const scope of ['read', 'write'] as const) {
      it(`${name} without executions:admin (${scope} key) is FORBIDDEN`, async () => {
        expect(codeOf((await run(s, ids, keys[scope]?.headers ?? {})) as never)).toBe('FORBIDDEN');
      });
    }
  }

  for (const tenant of ['otherOrg', 'otherEnv'] as const) {
    it(`keeps webhooks to their tenant: ${tenant === 'otherOrg' ? 'another organization' : 'another environment'} sees none and gets NOT_FOUND`, async () => {
      const h = keys[tenant]?.headers ?? {};
      expect(ok(await s.gql<{ webhooks: unknown[] }>('{ webhooks { id } }', {}, h)).webhooks).toEqual([]);
      for (const [name, run] of OPERATIONS.filter(([n]) => n !== 'createWebhook' && n !== 'webhooks')) {
        const res = (await run(s, ids, h)) as { errors?: { extensions?: { code?: string }; message: string }[] };
        expect([name, res.errors?.[0]?.extensions?.code]).toEqual([name, 'NOT_FOUND']);
      }
      expect(
        ok(await s.gql<{ webhooks: { id: string }[] }>('{ webhooks { id } }', {}, admin.headers)).webhooks,
      ).toEqual([{ id: ids.webhook }]);
    });
  }

  it("does not deliver another tenant's executions", async () => {
    const before = rx.received.length;
    const { id } = await createExecution(s, {}, keys.otherOrg?.headers);
    ok(await s.gql(COMPLETE, { id }, keys.otherOrg?.headers));
    const live = await createExecution(s, {}, keys.otherEnv?.headers);
    ok(await s.gql(COMPLETE, { id: live.id }, keys.otherEnv?.headers));
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.received.length).toBe(before);
  });

  it('shows the secret once: no field of a listed webhook carries it', async () => {
    const res = await s.gql('{ webhooks { id secret } }', {}, admin.headers);
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['not a URL', { url: 'nope', events: ['execution.terminal'] }],
    ['another scheme', { url: 'ftp://127.0.0.1/x', events: ['execution.terminal'] }],
    ['credentials in the URL', { url: 'http://u:p@127.0.0.1/x', events: ['execution.terminal'] }],
    ['no event type', { url: 'http://127.0.0.1/x', events: [] }],
    ['an unknown event type', { url: 'http://127.0.0.1/x', events: ['execution.created'] }],
    [
      'an unknown status in the filter',
      { url: 'http://127.0.0.1/x', events: ['execution.terminal'], filter: { status: ['DONE'] } },
    ],
  ])('refuses %s with VALIDATION_FAILED', async (_why, input) => {
    expect(codeOf(await s.gql(CREATE_WEBHOOK, { input }, admin.headers))).toBe('VALIDATION_FAILED');
  });

  it('deletes a webhook with its deliveries; a second delete is NOT_FOUND', async () => {
    const hook = await createWebhook(s, { url: rx.url }, admin.headers);
    const del = 'mutation($id: ID!) { deleteWebhook(id: $id) { id url } }';
    expect(ok(await s.gql<{ deleteWebhook: unknown }>(del, { id: hook.id }, admin.headers)).deleteWebhook).toEqual({
      id: hook.id,
      url: rx.url,
    });
    expect(codeOf(await s.gql(del, { id: hook.id }, admin.headers))).toBe('NOT_FOUND');
    expect(codeOf(await s.gql(del, { id: UNKNOWN }, admin.headers))).toBe('NOT_FOUND');
    expect(codeOf(await s.gql(del, { id: 'not-a-uuid' }, admin.headers))).toBe('NOT_FOUND');
  });
});

describe('SSRF guard', () => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startTestServer('pglite'); // VIGIL_WEBHOOK_ALLOW_PRIVATE unset: the default, refusing
    rx = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address/],
    ['loopback by name', 'http://localhost:8080/hook', /localhost resolves to .* loopback/],
    ['IPv6 loopback', 'http://[::1]:8080/hook', /loopback/],
    ['the cloud metadata endpoint', 'http://169.254.169.254/latest/meta-data/', /metadata/],
    ['a private network', 'https://10.1.2.3/hook', /private/],
    ['link-local', 'http://169.254.10.10/hook', /link-local/],
    ['an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['the unspecified address', 'http://0.0.0.0:8080/hook', /unspecified/],
  ])('refuses %s at registration with a clear VALIDATION_FAILED', async (_why, url, message) => {
    const res = await s.gql(CREATE_WEBHOOK, { input: { url, events: ['execution.terminal'] } });
    expect(codeOf(res)).toBe('VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(message);
    const issues = res.errors?.[0]?.extensions?.issues as { loc: string[] }[] | undefined;
    expect(issues?.[0]?.loc).toEqual(['url']);
  });

  it('refuses the metadata endpoint even where private targets are allowed', async () => {
    const open = await startHookServer('pglite');
    try {
      const res = await open.gql(CREATE_WEBHOOK, {
        input: { url: 'http://169.254.169.254/', events: ['execution.terminal'] },
      });
      expect(codeOf(res)).toBe('VALIDATION_FAILED');
      expect(res.errors?.[0]?.message).toMatch(/metadata/);
    } finally {
      await open.close();
    }
  });

  it('checks again at delivery: an endpoint that became private is refused, the attempt logged, nothing sent', async () => {
    // As if registered while private targets were allowed, then the operator turned that off.
    const id = uuidv7();
    await s.database.db.insert(webhooks).values({
      id,
      organizationId: 'default',
      environment: 'test',
      url: rx.url,
      events: ['execution.terminal'],
      secret: 'whsec_x',
      createdAt: new Date(),
    });
    const exec = await createExecution(s);
    ok(await s.gql(COMPLETE, { id: exec.id }));
    const [d] = await eventually(
      () => deliveries(s, id),
      (l) => (l[0]?.attempts.length ?? 0) >= 1,
    );
    expect(d?.attempts[0]).toMatchObject({ statusCode: null, success: false });
    expect(d?.attempts[0]?.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
    expect(d?.status).toBe('PENDING'); // retried on its schedule, and refused each time
    expect(rx.received).toEqual([]);
  });

  it('vets the address a name resolves to at connect time (DNS rebinding): nothing reaches the receiver', async () => {
    const rebinding = async () => [{ address: '127.0.0.1', family: 4 }];
    const poster = createPoster({ timeoutMs: 2000, allowPrivate: false, lookup: vettingLookup(false, rebinding) });
    const port = new URL(rx.url).port;
    try {
      const r = await poster.post(`http://public.example:${port}/hook`, {}, '{}', new AbortController().signal);
      expect(r.statusCode).toBeNull();
      expect(r.error).toMatch(/public\.example resolves to 127\.0\.0\.1 is a loopback address/);
      expect(rx.received).toEqual([]);
    } finally {
      poster.close();
    }
  });
});
