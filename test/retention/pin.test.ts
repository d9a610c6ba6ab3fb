import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDue } from '../../src/domain/retention.js';
import { runCli } from '../support/cli.js';
import { codeOf, DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { makeKey, type TestKey } from '../support/keys.js';
import { expectError, rest, UNKNOWN_ID } from '../support/rest.js';
import { finished, future, kept, read } from './support.js';

const PIN = `mutation($id: ID!, $pinned: Boolean!) { setExecutionPinned(id: $id, pinned: $pinned) { id pinned } }`;

/** setExecutionPinned and REST's pin (API.md §10): a pinned member keeps its whole tree; tenants never cross. */
describe.each(DB_KINDS)('pinning (%s)', (kind) => {
  let s: TestServer;
  let writer: TestKey;
  let reader: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    s = await startTestServer(kind, { env: { VIGIL_RETENTION_DAYS: '0', VIGIL_AUTH: 'on' } });
    writer = await makeKey(s, 'acme', ['executions:read', 'executions:write']);
    reader = await makeKey(s, 'acme', ['executions:read']);
    other = await makeKey(s, 'globex', ['executions:read', 'executions:write', 'executions:admin']);
  });
  afterAll(async () => {
    await s.close();
  });
  const keptAs = (ids: string[]) => kept(s, ids, writer.headers);
  const purge = (workflowId: string) => deleteDue(s.database.db, { cutoff: future(), workflowId }, { batch: 50 });

  it('keeps a pinned root and a tree with a pinned child whole; unpinned, they go', async () => {
    const root = await finished(s, { workflowId: 'pin-tree' }, writer.headers);
    const child = await finished(s, { workflowId: 'pin-tree', parentExecutionId: root.id }, writer.headers);
    const alone = await finished(s, { workflowId: 'pin-tree' }, writer.headers);
    const pinned = ok(
      await s.gql<{ setExecutionPinned: { pinned: boolean } }>(PIN, { id: child.id, pinned: true }, writer.headers),
    );
    expect(pinned.setExecutionPinned).toEqual({ id: child.id, pinned: true });
    ok(await s.gql(PIN, { id: alone.id, pinned: true }, writer.headers));
    expect(await purge('pin-tree')).toEqual({ executions: 0, events: 0 });
    expect(await keptAs([root.id, child.id, alone.id])).toEqual([root.id, child.id, alone.id]);
    expect((await read(s, child.id, writer.headers))?.pinned).toBe(true);

    const unpinned = await rest<{ pinned: boolean }>(s, 'DELETE', `/api/v1/executions/${child.id}/pin`, {
      headers: writer.headers,
    });
    expect(unpinned.status).toBe(200);
    expect(unpinned.body.pinned).toBe(false);
    expect(await purge('pin-tree')).toEqual({ executions: 2, events: 6 });
    expect(await keptAs([root.id, child.id, alone.id])).toEqual([alone.id]);
  });

  it('pins over REST (PUT, again a success) and documents both methods in /openapi.json', async () => {
    const e = await finished(s, { workflowId: 'pin-rest' }, writer.headers);
    for (let i = 0; i < 2; i++) {
      const r = await rest<{ id: string; pinned: boolean }>(s, 'PUT', `/api/v1/executions/${e.id}/pin`, {
        headers: writer.headers,
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: e.id, pinned: true });
    }
    expect(await purge('pin-rest')).toEqual({ executions: 0, events: 0 });
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths['/api/v1/executions/{execution_id}/pin'] ?? {}).sort()).toEqual(['delete', 'put']);
  });

  it("is EXECUTION_NOT_FOUND for another tenant's execution, an unknown or malformed id; FORBIDDEN without write", async () => {
    const e = await finished(s, { workflowId: 'pin-tenant' }, writer.headers);
    expect(codeOf(await s.gql(PIN, { id: e.id, pinned: true }, other.headers))).toBe('EXECUTION_NOT_FOUND');
    expect(codeOf(await s.gql(PIN, { id: UNKNOWN_ID, pinned: true }, writer.headers))).toBe('EXECUTION_NOT_FOUND');
    expect(codeOf(await s.gql(PIN, { id: 'nope', pinned: true }, writer.headers))).toBe('EXECUTION_NOT_FOUND');
    expect(codeOf(await s.gql(PIN, { id: e.id, pinned: true }, reader.headers))).toBe('FORBIDDEN');
    expectError(
      await rest(s, 'PUT', `/api/v1/executions/${e.id}/pin`, { headers: other.headers }),
      404,
      'EXECUTION_NOT_FOUND',
    );
    expectError(
      await rest(s, 'DELETE', `/api/v1/executions/${e.id}/pin`, { headers: reader.headers }),
      403,
      'FORBIDDEN',
    );
    expect((await read(s, e.id, writer.headers))?.pinned).toBe(false);
  });

  it('shows it in vigil get', async () => {
    const e = await finished(s, { workflowId: 'pin-cli' }, writer.headers);
    ok(await s.gql(PIN, { id: e.id, pinned: true }, writer.headers));
    const r = await runCli(['get', e.id], { VIGIL_URL: s.url, VIGIL_API_KEY: writer.secret });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pinned\s+yes: kept by retention/);
  });
});
