import { readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { executions } from '../../src/db/schema.js';
import { openPrincipal, type Principal } from '../../src/domain/access.js';
import { findExecution, isUuid } from '../../src/domain/executions.js';
import { uuidSchema } from '../../src/domain/inputs.js';
import { DB_KINDS, newDatabaseUrl } from '../support/harness.js';

/** A row with every kind of column set: jsonb objects and arrays, timestamps, bigint, booleans, nulls, text. */
function fullRow(id: string, organizationId: string, environment: 'test' | 'live') {
  const at = new Date('2026-03-04T05:06:07.089Z');
  return {
    id,
    organizationId,
    environment,
    workflowId: 'wf-"quoted"-é',
    workflowVersion: null,
    status: 'RUNNING' as const,
    progress: { step: 'load', percentage: 40 },
    inputs: { nested: { list: [1, 'two', null, { three: true }] }, unicode: '☃\n' },
    output: null,
    metadata: { k: 'v' },
    resolvedVariables: [1, 2, 3],
    error: null,
    trigger: { type: 'manual' },
    initiatedBy: 'someone',
    steps: [{ name: 's1', status: 'RUNNING', startedAt: at.toISOString() }],
    timeoutSeconds: 600,
    heartbeatTimeoutSeconds: null,
    deadlineAt: new Date(at.getTime() + 600_000),
    totalMessages: 3,
    completedMessages: 1,
    failedMessages: 1,
    inProgressMessages: 1,
    lastSequence: 7,
    tags: { team: 'a' },
    rootExecutionId: id,
    pinned: true,
    logBytes: 2 ** 40 + 1,
    createdAt: at,
    startedAt: new Date(at.getTime() + 1),
    updatedAt: new Date(at.getTime() + 2),
  };
}

describe.each(DB_KINDS)('the execution read statement on %s', (kind) => {
  let database: Database;
  const principal = (organizationId: string, environment: 'test' | 'live'): Principal => ({
    ...openPrincipal(environment),
    organizationId,
  });
  const drizzleRow = async (id: string) =>
    (await database.db.select().from(executions).where(eq(executions.id, id)))[0];

  beforeAll(async () => {
    database =
      kind === 'postgres'
        ? await openDatabase({ databaseUrl: await newDatabaseUrl(), poolSize: 4 })
        : await openDatabase({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
  });
  afterAll(() => database.close());

  it('answers the row exactly as drizzle maps it: every column, every type', async () => {
    const id = uuidv7();
    await database.db.insert(executions).values(fullRow(id, 'org-a', 'test'));
    const expected = await drizzleRow(id);
    expect(expected?.logBytes).toBe(2 ** 40 + 1);
    const found = await findExecution(database.db, principal('org-a', 'test'), id);
    expect(found).toStrictEqual(expected);
    expect(found?.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(found ?? {})).toEqual(Object.keys(expected ?? {}));
  });

  it('keeps tenants apart: the statement is kept per database, each call reads with its own principal', async () => {
    const a = uuidv7();
    const b = uuidv7();
    await database.db.insert(executions).values([fullRow(a, 'org-a', 'test'), fullRow(b, 'org-b', 'live')]);
    for (let round = 0; round < 2; round++) {
      expect((await findExecution(database.db, principal('org-a', 'test'), a))?.id).toBe(a);
      expect(await findExecution(database.db, principal('org-b', 'test'), a)).toBeNull();
      expect(await findExecution(database.db, principal('org-a', 'live'), a)).toBeNull();
      expect((await findExecution(database.db, principal('org-b', 'live'), b))?.id).toBe(b);
      expect(await findExecution(database.db, principal('org-a', 'test'), b)).toBeNull();
    }
  });

  it('sees what changed since the last read (nothing is kept but the statement), and reads inside a transaction', async () => {
    const id = uuidv7();
    const who = principal('org-c', 'test');
    await database.db.insert(executions).values(fullRow(id, 'org-c', 'test'));
    expect((await findExecution(database.db, who, id))?.status).toBe('RUNNING');
    await database.db.update(executions).set({ status: 'COMPLETED', progress: null }).where(eq(executions.id, id));
    const after = await findExecution(database.db, who, id);
    expect(after?.status).toBe('COMPLETED');
    expect(after?.progress).toBeNull();
    // A transaction is a handle of its own: it reads its own uncommitted writes, which the pool does not see.
    const fresh = uuidv7();
    await database.db
      .transaction(async (tx) => {
        await tx.insert(executions).values(fullRow(fresh, 'org-c', 'test'));
        expect((await findExecution(tx, who, fresh))?.id).toBe(fresh);
        throw new Error('roll back');
      })
      .catch((err: Error) => expect(err.message).toBe('roll back'));
    expect(await findExecution(database.db, who, fresh)).toBeNull();
  });
});

describe('isUuid, the read path check before any statement', () => {
  it('accepts exactly what the inputs schema (z.uuid()) accepts', () => {
    const samples = [
      uuidv7(),
      uuidv7().toUpperCase(),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '01a24982-7fa5-947f-a337-3bed59f6aa1c', // version 9
      '01a24982-7fa5-747f-c337-3bed59f6aa1c', // variant c
      '01a24982-7fa5-747f-a337-3bed59f6aa1', // short
      `${uuidv7()}\n`,
      ` ${uuidv7()}`,
      '',
      'not-a-uuid',
    ];
    for (const s of samples) expect(isUuid(s), s).toBe(uuidSchema.safeParse(s).success);
    expect(samples.filter(isUuid)).toHaveLength(4);
  });
});
