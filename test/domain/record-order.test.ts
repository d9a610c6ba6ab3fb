import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { openPrincipal } from '../../src/domain/access.js';
import type { DomainContext } from '../../src/domain/context.js';
import { readEvents } from '../../src/domain/events.js';
import { createExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

describe.each(DB_KINDS)('recordEvents under load on %s', (kind) => {
  let database: Database;
  let ctx: DomainContext;
  const principal = openPrincipal();
  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 8 })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
    ctx = { db: database.db, sink: { changed: () => {} }, now: () => new Date(), hooks: [] };
  });
  afterAll(() => database.close());

  it('commits the calls of one execution in the order they were made, across batches queued behind row locks', async () => {
    const ids = await Promise.all(
      Array.from({ length: 3 }, () => createExecution(ctx, principal, { workflowId: 'o' })),
    );
    const calls = 300;
    // All made in one tick: far more work than one transaction takes, so several run at once and the later ones for
    // an execution wait in the database behind the earlier ones' row locks.
    const results = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        recordEvents(ctx, principal, ids[i % ids.length]?.id as string, [
          { progress: { step: String(i), percentage: 1 } },
          { progress: { step: String(i), percentage: 2 } },
        ]),
      ),
    );
    expect(results).toHaveLength(calls);
    for (const [n, { id }] of ids.entries()) {
      const events = await readEvents(database.db, id, 0, 10_000);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      const steps = events.map((e) => Number(e.payload.step));
      const expected = Array.from({ length: calls }, (_, i) => i)
        .filter((i) => i % ids.length === n)
        .flatMap((i) => [i, i]);
      expect(steps).toEqual(expected);
    }
  });
});
