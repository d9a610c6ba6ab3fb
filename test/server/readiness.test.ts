import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { DB_KINDS, newDatabaseUrl, startTestServer, type TestServer } from '../support/harness.js';

describe.each(DB_KINDS)('/readyz on %s', (kind) => {
  let s: TestServer;
  let hangNextPing = false;
  beforeAll(async () => {
    const databaseUrl = kind === 'postgres' ? await newDatabaseUrl() : undefined;
    const database: Database = await openDatabase(
      databaseUrl ? { databaseUrl } : { loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) },
    );
    const ping = database.ping.bind(database);
    // A ping that never settles, as over a connection lost without a close.
    database.ping = () => {
      if (!hangNextPing) return ping();
      hangNextPing = false;
      return new Promise<boolean>(() => {});
    };
    s = await startTestServer(kind, { database, ...(databaseUrl && { databaseUrl }) });
  });
  afterAll(() => s.close());

  const readyz = async () => {
    const res = await fetch(`${s.url}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('recovers from a probe that never settles: 503 while it is young, 200 once it is given up', async () => {
    expect((await readyz()).status).toBe(200);
    hangNextPing = true;
    const started = performance.now();
    const hung = await readyz();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(hung).toMatchObject({ status: 503, body: { database: 'down' } });
    await expect
      .poll(readyz, { timeout: 8000, interval: 250 })
      .toMatchObject({ status: 200, body: { database: 'up' } });
  });
});
