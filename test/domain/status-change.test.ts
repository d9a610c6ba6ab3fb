import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { webhooks } from '../../src/db/schema.js';
import { openPrincipal } from '../../src/domain/access.js';
import type { DomainContext, StatusChangeHook } from '../../src/domain/context.js';
import { readEvents } from '../../src/domain/events.js';
import { createExecution, getExecution } from '../../src/domain/executions.js';
import { recordEvents } from '../../src/domain/record.js';
import { dropCopies } from '../../src/domain/record-copies.js';
import { endInOneTrip } from '../../src/domain/status-change.js';
import { updateStatusByClient } from '../../src/domain/transitions.js';
import type { Change } from '../../src/domain/types.js';
import { WebhookOutbox } from '../../src/webhooks/outbox.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';
import { countingReserves } from '../support/reserves.js';

describe.each(DB_KINDS)('a status change that ends an execution in one round trip on %s', (kind) => {
  let database: Database;
  let ctx: DomainContext;
  const published: Change[] = [];
  const principal = openPrincipal();
  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 4 })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
    ctx = { db: database.db, sink: { changed: (c) => published.push(...c) }, now: () => new Date(), hooks: [] };
  });
  afterAll(() => database.close());
  const running = async () => {
    const { id } = await createExecution(ctx, principal, { workflowId: 'one-trip' });
    await recordEvents(ctx, principal, id, [{ statusChanged: { to: 'RUNNING' } }]);
    return id;
  };

  it('ends the execution and answers what it committed: the row as read back, its one event as stored', async () => {
    const id = await running();
    published.length = 0;
    const r = await endInOneTrip(ctx, principal, id, 'FAILED', { code: 'X', message: 'stuck' });
    if (!r?.ended) throw new Error('expected the one-trip change to end the execution');
    expect(r.previous).toBe('RUNNING');
    expect(r.execution).toEqual(await getExecution(ctx.db, principal, id));
    expect(r.execution).toMatchObject({ status: 'FAILED', lastSequence: 2, error: { code: 'X', message: 'stuck' } });
    const stored = await readEvents(ctx.db, id, 1, 10);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      sequence: 2,
      type: 'STATUS_CHANGED',
      payload: { from: 'RUNNING', to: 'FAILED', error: { code: 'X', message: 'stuck' } },
      occurredAt: r.execution.completedAt,
      recordedAt: r.execution.updatedAt,
    });
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ ...stored[0], executionId: id });
  });

  it('answers a terminal or foreign row as it found it, writing nothing', async () => {
    const id = await running();
    await updateStatusByClient(ctx, principal, id, 'COMPLETED');
    const again = await endInOneTrip(ctx, principal, id, 'CANCELLED', null);
    expect(again).toMatchObject({ ended: false, current: { status: 'COMPLETED', lastSequence: 2 } });
    expect(await endInOneTrip(ctx, openPrincipal('live'), id, 'CANCELLED', null)).toEqual({
      ended: false,
      current: null,
    });
    expect((await getExecution(ctx.db, principal, id)).lastSequence).toBe(2);
  });

  it('leaves an execution with open steps to the two-trip path, which closes them before the terminal event', async () => {
    const id = await running();
    await recordEvents(ctx, principal, id, [{ step: { stepId: 'a', name: 'extract', status: 'RUNNING' } }]);
    // This process wrote the open step: its copy of the row says so, and nothing is sent.
    expect(await endInOneTrip(ctx, principal, id, 'CANCELLED', null)).toBeNull();
    // Without the copy (another instance wrote the step), the statement's own guard writes nothing.
    dropCopies(ctx, [id]);
    const r = await endInOneTrip(ctx, principal, id, 'CANCELLED', null);
    expect(r).toMatchObject({ ended: false, current: { status: 'RUNNING', lastSequence: 2 } });
    expect((await updateStatusByClient(ctx, principal, id, 'CANCELLED')).previousStatus).toBe('RUNNING');
    const types = (await readEvents(ctx.db, id, 2, 10)).map((e) => e.type);
    expect(types).toEqual(['STEP', 'STATUS_CHANGED']);
  });

  it('knows from the webhook outbox which tenants have endpoints: the statement checks, the hint skips the try', async () => {
    const tenant = openPrincipal('live');
    const outbox = new WebhookOutbox(60_000);
    const hooked = { ...ctx, hooks: [outbox] };
    const endpoint = uuidv7();
    await ctx.db.insert(webhooks).values({
      id: endpoint,
      organizationId: tenant.organizationId,
      environment: tenant.environment,
      url: 'https://example.com/hook',
      events: ['execution.terminal'],
      secret: 'secret',
      createdAt: new Date(),
    });
    const live = async () => {
      const { id } = await createExecution(ctx, tenant, { workflowId: 'one-trip' });
      return id;
    };
    // A fresh outbox knows nothing: the try is made, and the statement finds the endpoint and writes nothing.
    expect(outbox.expectsWrites(tenant)).toBe(false);
    const first = await live();
    expect(await endInOneTrip(hooked, tenant, first, 'COMPLETED', null)).toMatchObject({ ended: false });
    expect((await getExecution(ctx.db, tenant, first)).lastSequence).toBe(0);
    // The two-trip change reads the endpoints (and writes the delivery); from then on no futile try is made.
    await updateStatusByClient(hooked, tenant, first, 'COMPLETED');
    expect(outbox.expectsWrites(tenant)).toBe(true);
    expect(outbox.expectsWrites(principal)).toBe(false);
    expect(await endInOneTrip(hooked, tenant, await live(), 'COMPLETED', null)).toBeNull();
    // The other tenant has no endpoint: one trip.
    const other = await running();
    expect(await endInOneTrip(hooked, principal, other, 'COMPLETED', null)).toMatchObject({ ended: true });
    // The endpoint disabled: the next read forgets the tenant, and its changes take one trip again.
    await ctx.db.update(webhooks).set({ disabledAt: new Date() }).where(eq(webhooks.id, endpoint));
    await updateStatusByClient(hooked, tenant, await live(), 'COMPLETED');
    expect(outbox.expectsWrites(tenant)).toBe(false);
    expect(await endInOneTrip(hooked, tenant, await live(), 'COMPLETED', null)).toMatchObject({ ended: true });
  });

  it('leaves a change a hook would write for to the two-trip path, and hooks without a condition always', async () => {
    const calls: string[] = [];
    const hook = (quiet: boolean | null): StatusChangeHook => ({
      onStatusChanged: async (_tx, e, from) => void calls.push(`${from}->${e.status}`),
      ...(quiet !== null && { quiet: () => (quiet ? sql`true` : sql`false`) }),
    });
    for (const [quiet, oneTrip] of [
      [false, false],
      [null, null],
      [true, true],
    ] as const) {
      const id = await running();
      const hooked = { ...ctx, hooks: [hook(quiet)] };
      const r = await endInOneTrip(hooked, principal, id, 'COMPLETED', null);
      expect(r === null ? null : r.ended).toBe(oneTrip);
      if (!r?.ended) {
        await updateStatusByClient(hooked, principal, id, 'COMPLETED');
        expect(calls.pop()).toBe('RUNNING->COMPLETED');
      }
      expect((await getExecution(ctx.db, principal, id)).status).toBe('COMPLETED');
    }
    expect(calls).toEqual([]);
  });

  it('ends an execution in the same statement when a worker reports that alone, and anything more in a transaction', async () => {
    const { db, reserves } = countingReserves(ctx.db);
    const worker = { ...ctx, db };
    const id = await running();
    published.length = 0;
    const error = { code: 'OOM', message: 'killed at 4 GiB' };
    const r = await recordEvents(worker, principal, id, [{ statusChanged: { to: 'FAILED', error } }]);
    expect(reserves()).toBe(0);
    expect(r.execution).toEqual(await getExecution(ctx.db, principal, id));
    expect(r.execution).toMatchObject({ status: 'FAILED', lastSequence: 2, error, heartbeatDeadlineAt: null });
    expect(r.events).toEqual([
      {
        executionId: id,
        sequence: 2,
        type: 'STATUS_CHANGED',
        payload: { from: 'RUNNING', to: 'FAILED', error },
        occurredAt: r.execution.completedAt,
        recordedAt: r.execution.updatedAt,
      },
    ]);
    expect((await readEvents(ctx.db, id, 1, 10)).map(({ sequence, type }) => ({ sequence, type }))).toEqual([
      { sequence: 2, type: 'STATUS_CHANGED' },
    ]);
    // What committed goes to the feed with the change: waiters in this process are answered without a read back.
    expect(published).toEqual([
      { executionId: id, sequence: 2, committed: { execution: r.execution, events: r.events } },
    ]);

    // An output (or a time of its own, another event, an idempotency key) is more than the statement writes.
    const other = await running();
    const done = await recordEvents(worker, principal, other, [
      { statusChanged: { to: 'COMPLETED', output: { rows: 3 } } },
    ]);
    expect(done.execution).toMatchObject({ status: 'COMPLETED', output: { rows: 3 }, lastSequence: 2 });
    if (kind === 'postgres') expect(reserves()).toBe(1);
    // A report after the end is refused as before, in the words of the usual way (it decides under the lock).
    await expect(recordEvents(worker, principal, id, [{ statusChanged: { to: 'COMPLETED' } }])).rejects.toMatchObject({
      code: 'INVALID_STATUS_TRANSITION',
      message: 'Execution is FAILED; nothing more can be recorded',
    });
    expect((await getExecution(ctx.db, principal, id)).lastSequence).toBe(2);
  });

  it('gives racing changes one winner and one STATUS_CHANGED event', async () => {
    const id = await running();
    const targets = ['CANCELLED', 'COMPLETED', 'FAILED'] as const;
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        updateStatusByClient(ctx, principal, id, targets[i % 3] as (typeof targets)[number]),
      ),
    );
    const won = results.filter(
      (r) =>
        r.status === 'fulfilled' && r.value.message.startsWith('Execution ') && !r.value.message.includes('already'),
    );
    expect(won).toHaveLength(1);
    const terminal = (await readEvents(ctx.db, id, 1, 100)).filter((e) => e.type === 'STATUS_CHANGED');
    expect(terminal).toHaveLength(1);
  });
});
