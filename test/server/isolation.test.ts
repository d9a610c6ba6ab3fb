import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/access/keys.js';
import { codeOf, createExecution, DB_KINDS, startTestServer, type TestServer } from '../support/harness.js';
import { rest } from '../support/rest.js';

const CREATE = 'mutation($m: JSON) { createExecution(input: {workflowId: "limits", metadata: $m}) { id } }';
const WAIT = 'query($id: ID!) { waitForExecution(id: $id, timeout: 30) { completed } }';

/**
 * Two servers in one process share nothing: each validates, counts and hashes with its own configuration. The
 * small one starts first, so a limit kept in a module (the last server's wins) would show here.
 */
describe.each(DB_KINDS)('two servers in one process on %s', (kind) => {
  let small: TestServer;
  let large: TestServer;
  const keys: Record<'small' | 'large', Record<string, string>> = { small: {}, large: {} };
  const held: AbortController[] = [];

  beforeAll(async () => {
    small = await startTestServer(kind, {
      env: {
        VIGIL_AUTH: 'on',
        VIGIL_KEY_PEPPER: 'pepper-of-the-small-one',
        VIGIL_JSON_FIELD_LIMIT: '1000',
        VIGIL_MAX_WAITERS: '1',
        VIGIL_MAX_STREAMS: '1',
      },
    });
    large = await startTestServer(kind, { env: { VIGIL_AUTH: 'on', VIGIL_KEY_PEPPER: 'pepper-of-the-large-one' } });
    for (const [name, s, pepper] of [
      ['small', small, 'pepper-of-the-small-one'],
      ['large', large, 'pepper-of-the-large-one'],
    ] as const) {
      const { secret } = await createApiKey(
        s.database.db,
        { organizationId: 'acme', environments: ['test'], scopes: ['executions:read', 'executions:write'] },
        { pepper },
      );
      keys[name] = { authorization: `Bearer ${secret}` };
    }
  });
  afterAll(async () => {
    for (const c of held) c.abort();
    await Promise.all([small.close(), large.close()]);
  });

  it('keeps each JSON field limit, on GraphQL and REST', async () => {
    const metadata = { text: 'x'.repeat(2000) };
    const refused = await small.gql(CREATE, { m: metadata }, keys.small);
    expect(codeOf(refused)).toBe('VALIDATION_FAILED');
    expect(refused.errors?.[0]?.message).toContain('over 1000 bytes');
    const refusedRest = await rest(small, 'POST', '/api/v1/executions', {
      json: { workflowId: 'limits', metadata },
      headers: keys.small,
    });
    expect(refusedRest.status).toBe(422);
    expect((await large.gql(CREATE, { m: metadata }, keys.large)).errors).toBeUndefined();
    const acceptedRest = await rest(large, 'POST', '/api/v1/executions', {
      json: { workflowId: 'limits', metadata },
      headers: keys.large,
    });
    expect(acceptedRest.status).toBe(201);
  });

  /** Starts a wait on `s` and leaves it open (it ends with the test file). */
  const holdWait = (s: TestServer, headers: Record<string, string>, id: string) => {
    const controller = new AbortController();
    held.push(controller);
    void fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: WAIT, variables: { id } }),
      signal: controller.signal,
    }).catch(() => null);
  };

  it('counts waits against each server’s own VIGIL_MAX_WAITERS', async () => {
    const first = await createExecution(small, {}, keys.small);
    holdWait(small, keys.small, first.id);
    await vi.waitFor(() => expect(small.feed.slots.open.waiters).toBe(1));
    const second = await small.gql(WAIT, { id: first.id }, keys.small);
    expect(codeOf(second)).toBe('SERVICE_UNAVAILABLE');
    expect(second.status).toBe(503);

    const other = await createExecution(large, {}, keys.large);
    holdWait(large, keys.large, other.id);
    holdWait(large, keys.large, other.id);
    await vi.waitFor(() => expect(large.feed.slots.open.waiters).toBe(2));
    expect(small.feed.slots.open.waiters).toBe(1);
  });

  it('counts streams against each server’s own VIGIL_MAX_STREAMS', async () => {
    const path = (id: string) => `/api/v1/executions/${id}/events?timeout=30`;
    const open = async (s: TestServer, headers: Record<string, string>, id: string) => {
      const c = new AbortController();
      held.push(c);
      return fetch(`${s.url}${path(id)}`, { headers, signal: c.signal });
    };
    const a = await createExecution(small, {}, keys.small);
    expect((await open(small, keys.small, a.id)).status).toBe(200);
    const refused = await open(small, keys.small, a.id);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error_code: 'SERVICE_UNAVAILABLE' });
    const b = await createExecution(large, {}, keys.large);
    expect((await open(large, keys.large, b.id)).status).toBe(200);
    expect((await open(large, keys.large, b.id)).status).toBe(200);
    expect(small.feed.slots.open.streams).toBe(1);
    expect(large.feed.slots.open.streams).toBe(2);
  });

  it('hashes API keys with each server’s own VIGIL_KEY_PEPPER', async () => {
    expect((await small.gql('{ viewer { organizationId } }', {}, keys.small)).status).toBe(200);
    const { secret } = await createApiKey(small.database.db, {
      organizationId: 'acme',
      environments: ['test'],
      scopes: ['executions:read'],
    });
    const otherPepper = await small.gql('{ viewer { organizationId } }', {}, { authorization: `Bearer ${secret}` });
    expect(otherPepper.status).toBe(401);
    expect(codeOf(otherPepper)).toBe('UNAUTHORIZED');
  });
});
