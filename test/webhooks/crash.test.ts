import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';
import { gqlAt, spawnVigil, type VigilProcess } from '../support/process.js';
import { startReceiver } from '../support/receiver.js';

/** A GraphQL request to one spawned process. */
const gql = <T>(p: VigilProcess, query: string, variables: Record<string, unknown> = {}) =>
  gqlAt<T>(p.url, query, variables);

describe('kill -9 between commit and delivery', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(DB_KINDS)(
    'delivers every committed event after a restart on %s (nothing lost)',
    async (kind) => {
      const env: Record<string, string> = {
        VIGIL_WEBHOOK_ALLOW_PRIVATE: '1',
        VIGIL_WEBHOOK_TIMEOUT_MS: '1000', // a lease of 2 × 1 s + 5 s hides an attempt cut short by the crash
        VIGIL_WEBHOOK_RETRY_BASE_MS: '200',
      };
      if (kind === 'postgres') env.DATABASE_URL = await newDatabaseUrl();
      else {
        const dir = mkdtempSync(join(tmpdir(), 'vigil-hooks-crash-'));
        dirs.push(dir);
        env.VIGIL_DATA_DIR = dir;
      }
      // Until the crash the receiver never answers: whatever the first process sent, nothing was acknowledged.
      const rx = await startReceiver(() => ({ status: 200, delayMs: 60_000 }));
      let server = await spawnVigil(env);
      try {
        const { createWebhook } = await gql<{ createWebhook: { secret: string } }>(
          server,
          'mutation($url: String!) { createWebhook(input: {url: $url, events: ["execution.terminal"]}) { secret } }',
          { url: rx.url },
        );
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const d = await gql<{ createExecution: { id: string } }>(
            server,
            'mutation { createExecution(input: {workflowId: "crash"}) { id } }',
          );
          ids.push(d.createExecution.id);
        }
        for (const id of ids) {
          await gql(server, 'mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED) { success } }', {
            id,
          });
        }
        server.child.kill('SIGKILL');
        await server.stop();
        const beforeRestart = rx.received.length;
        expect(beforeRestart).toBe(0); // nothing was answered before the crash

        rx.respond = () => ({ status: 200 });
        server = await spawnVigil(env);
        const started = performance.now();
        const got = await rx.waitFor(5, (r) => r.status === 200, 20_000);
        const delivered = new Set(got.map((r) => r.body.data.execution.id as string));
        expect([...delivered].sort()).toEqual([...ids].sort());
        for (const r of got)
          expect(verifySignature(createWebhook.secret, String(r.headers['vigil-signature']), r.raw)).toBe(true);
        console.log(
          `kill -9 on ${kind}: ${ids.length} committed terminal events, all delivered ${((performance.now() - started) / 1000).toFixed(1)} s after the restart began listening`,
        );
      } finally {
        await server.stop();
        await rx.close();
      }
    },
    60_000,
  );
});
