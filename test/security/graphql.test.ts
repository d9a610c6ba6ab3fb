import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/domain/access.js';
import { codeOf, createExecution, DB_KINDS, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, revokeKey, type TestKey } from '../support/keys.js';
import { collect, subscribe, TRANSPORTS, take } from '../support/subscribe.js';

const ID = '01900000-0000-7000-8000-000000000000';

/** Every operation of the GraphQL surface with the scope it needs (API.md §5). */
const OPERATIONS: {
  name: string;
  scope: Scope;
  run: (s: TestServer, id: string, h: Record<string, string>) => Promise<unknown>;
}[] = [
  {
    name: 'execution',
    scope: 'executions:read',
    run: (s, id, h) => s.gql('query($id: ID!) { execution(id: $id) { id } }', { id }, h),
  },
  {
    name: 'executions',
    scope: 'executions:read',
    run: (s, _id, h) => s.gql('{ executions { edges { cursor } } }', {}, h),
  },
  {
    name: 'waitForExecution',
    scope: 'executions:read',
    run: (s, id, h) => s.gql('query($id: ID!) { waitForExecution(id: $id, timeout: 1) { completed } }', { id }, h),
  },
  {
    name: 'createExecution',
    scope: 'executions:write',
    run: (s, _id, h) => s.gql('mutation { createExecution(input: {workflowId: "x"}) { id } }', {}, h),
  },
  {
    name: 'recordExecutionEvents',
    scope: 'executions:write',
    run: (s, id, h) =>
      s.gql(
        'mutation($id: ID!) { recordExecutionEvents(executionId: $id, events: []) { events { sequence } } }',
        { id },
        h,
      ),
  },
  ...(['CANCELLED', 'FAILED', 'COMPLETED'] as const).map((status) => ({
    name: `updateExecutionStatus ${status}`,
    scope: (status === 'CANCELLED' ? 'executions:write' : 'executions:admin') as Scope,
    run: (s: TestServer, id: string, h: Record<string, string>) =>
      s.gql(`mutation($id: ID!) { updateExecutionStatus(id: $id, status: ${status}) { success } }`, { id }, h),
  })),
  {
    name: 'executionEvents',
    scope: 'executions:read',
    run: async (s, id, h) => {
      const results = await collect(
        subscribe(
          s.url,
          'yoga-sse',
          'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 1) { sequence } }',
          { id },
          h,
        ),
      );
      return { errors: results.flatMap((r) => r.errors ?? []) };
    },
  },
];

describe.each(DB_KINDS)('GraphQL access on %s', (kind) => {
  let s: TestServer;
  let owner: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_AUTH: 'on', VIGIL_KEY_RECHECK_MS: '300' } });
    owner = await makeKey(s, 'acme', ['executions:read', 'executions:write', 'executions:admin']);
    other = await makeKey(s, 'globex', ['executions:read', 'executions:write', 'executions:admin']);
  });
  afterAll(() => s.close());

  it.each([
    ['no key', {}],
    ['a malformed header', { authorization: 'Basic abc' }],
    ['an unknown key', { authorization: 'Bearer vigil_notarealkeyatallnotarealkeyatallnotarealk' }],
  ])('answers 401 UNAUTHORIZED with %s', async (_why, headers) => {
    const res = await s.gql('{ viewer { organizationId } }', {}, headers);
    expect(res.status).toBe(401);
    expect(codeOf(res)).toBe('UNAUTHORIZED');
    expect(res.errors?.[0]?.extensions?.correlationId).toBeTruthy();
  });

  it('tells the caller who it is', async () => {
    const res = ok(
      await s.gql<{ viewer: unknown }>(
        '{ viewer { organizationId environment scopes authenticated } }',
        {},
        owner.headers,
      ),
    );
    expect(res.viewer).toEqual({
      organizationId: 'acme',
      environment: 'TEST',
      scopes: ['executions:admin', 'executions:read', 'executions:write'],
      authenticated: true,
    });
  });

  describe('every scope × operation', () => {
    const keys: Partial<Record<Scope, TestKey>> = {};
    beforeAll(async () => {
      for (const scope of ['executions:read', 'executions:write', 'executions:admin'] as Scope[]) {
        keys[scope] = await makeKey(s, 'acme', [scope]);
      }
    });
    for (const op of OPERATIONS) {
      for (const scope of ['executions:read', 'executions:write', 'executions:admin'] as Scope[]) {
        const allowed = op.scope === scope;
        it(`${op.name} with only ${scope} is ${allowed ? 'allowed' : 'FORBIDDEN'}`, async () => {
          const { id } = await createExecution(s, {}, owner.headers);
          const res = (await op.run(s, id, keys[scope]?.headers ?? {})) as {
            errors?: { extensions?: { code?: string } }[];
          };
          const code = res.errors?.[0]?.extensions?.code;
          if (allowed) expect(code).toBeUndefined();
          else expect(code).toBe('FORBIDDEN');
        });
      }
    }
  });

  describe('another organization', () => {
    let id: string;
    beforeAll(async () => {
      id = (await createExecution(s, { workflowId: 'wf-secret' }, owner.headers)).id;
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }], owner.headers));
    });

    it('cannot read it: null, and absent from lists', async () => {
      expect((await s.gql('query($id: ID!) { execution(id: $id) { id } }', { id }, other.headers)).data).toEqual({
        execution: null,
      });
      const list = ok(
        await s.gql<{ executions: { edges: unknown[] } }>(
          '{ executions(filter: {workflowId: "wf-secret"}) { edges { cursor } } }',
          {},
          other.headers,
        ),
      );
      expect(list.executions.edges).toEqual([]);
    });

    it('gets EXECUTION_NOT_FOUND, exactly as for an id that does not exist, on waits, streams and writes', async () => {
      for (const op of OPERATIONS.filter((o) => !['execution', 'executions', 'createExecution'].includes(o.name))) {
        const theirs = (await op.run(s, id, other.headers)) as {
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        const absent = (await op.run(s, ID, other.headers)) as {
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        expect(theirs.errors?.[0]?.extensions?.code, op.name).toBe('EXECUTION_NOT_FOUND');
        expect(theirs.errors?.[0]?.message.replace(id, ID), op.name).toBe(absent.errors?.[0]?.message);
      }
      const still = ok(
        await s.gql<{ execution: { status: string } }>(
          'query($id: ID!) { execution(id: $id) { status } }',
          { id },
          owner.headers,
        ),
      );
      expect(still.execution.status).toBe('RUNNING');
    });

    it.each(TRANSPORTS)('sees none of its changes through executionUpdated (%s)', async (transport) => {
      const sub = subscribe<{ executionUpdated: { id: string } }>(
        s.url,
        transport,
        'subscription { executionUpdated { id } }',
        {},
        other.headers,
      );
      await new Promise((r) => setTimeout(r, 300));
      ok(await record(s, id, [{ progress: { percentage: 10 } }], owner.headers));
      const mine = await createExecution(s, { workflowId: 'visible' }, other.headers);
      const first = await take(sub, 1);
      expect(first[0]?.data?.executionUpdated.id).toBe(mine.id);
      await sub.close();
    });
  });

  describe('environments', () => {
    it('keeps a key with both environments apart per X-Environment, and requires the header', async () => {
      const both = await makeKey(s, 'acme', ['executions:read', 'executions:write'], ['test', 'live']);
      const missing = await s.gql('{ viewer { environment } }', {}, both.headers);
      expect(missing.status).toBe(422);
      expect(codeOf(missing)).toBe('VALIDATION_FAILED');
      const live = { ...both.headers, 'x-environment': 'live' };
      const { id } = await createExecution(s, {}, live);
      const fromTest = await s.gql(
        'query($id: ID!) { execution(id: $id) { id } }',
        { id },
        { ...both.headers, 'x-environment': 'test' },
      );
      expect(fromTest.data).toEqual({ execution: null });
      const fromLive = ok(
        await s.gql<{ execution: { id: string } }>('query($id: ID!) { execution(id: $id) { id } }', { id }, live),
      );
      expect(fromLive.execution.id).toBe(id);
    });

    it('refuses an environment the key may not use with 403 FORBIDDEN', async () => {
      const res = await s.gql('{ viewer { environment } }', {}, { ...owner.headers, 'x-environment': 'live' });
      expect(res.status).toBe(403);
      expect(codeOf(res)).toBe('FORBIDDEN');
    });
  });

  describe('revocation', () => {
    it('refuses a revoked key with 401', async () => {
      const k = await makeKey(s, 'acme', ['executions:read']);
      expect(ok(await s.gql('{ viewer { organizationId } }', {}, k.headers))).toBeTruthy();
      await revokeKey(s, k.id);
      await expect
        .poll(async () => (await s.gql('{ viewer { organizationId } }', {}, k.headers)).status, { timeout: 8000 })
        .toBe(401);
    });

    it.each(TRANSPORTS)('ends an open stream of a revoked key (%s)', async (transport) => {
      const k = await makeKey(s, 'acme', ['executions:read']);
      const { id } = await createExecution(s, {}, owner.headers);
      const sub = subscribe(
        s.url,
        transport,
        'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 60) { sequence } }',
        { id },
        k.headers,
      );
      ok(await record(s, id, [{ progress: { percentage: 1 } }], owner.headers));
      expect((await take(sub, 1))[0]?.data).toBeTruthy();
      const started = Date.now();
      await revokeKey(s, k.id);
      const rest = await collect(sub);
      expect(Date.now() - started).toBeLessThan(5000);
      const errors = rest.flatMap((r) => r.errors ?? []);
      if (errors.length) expect(errors[0]?.extensions?.code).toBe('UNAUTHORIZED');
    });

    it('answers an open wait of a revoked key with UNAUTHORIZED', async () => {
      const k = await makeKey(s, 'acme', ['executions:read']);
      const { id } = await createExecution(s, {}, owner.headers);
      const wait = s.gql('query($id: ID!) { waitForExecution(id: $id, timeout: 60) { completed } }', { id }, k.headers);
      await new Promise((r) => setTimeout(r, 300));
      await revokeKey(s, k.id);
      expect(codeOf(await wait)).toBe('UNAUTHORIZED');
    });
  });

  it('records when a key was last used', async () => {
    const k = await makeKey(s, 'acme', ['executions:read']);
    ok(await s.gql('{ viewer { organizationId } }', {}, k.headers));
    const { listApiKeys } = await import('../../src/access/keys.js');
    await expect
      .poll(async () => (await listApiKeys(s.database.db)).find((r) => r.id === k.id)?.lastUsedAt, { timeout: 5000 })
      .toBeInstanceOf(Date);
  });
});
