import { describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { messageOf, readMessages, rowsOfBatch } from '../../src/domain/record-rows.js';
import { DB_KINDS } from '../support/harness.js';
import { beforeMigration } from '../support/migrations.js';

const TAG = '0014_message_lineage';
const ID = '01900000-0000-7000-8000-000000000001';

/** A MESSAGE event as a worker batch stored it. */
const event = (sequence: number, messageId: string, status: string) =>
  `insert into execution_events (execution_id, sequence, type, payload, occurred_at, recorded_at)
   values ('${ID}', ${sequence}, 'MESSAGE', '${JSON.stringify({ messageId, status })}', now(), now())`;

/**
 * Migration 0014 drops the message lineage table: a message's state is read from its MESSAGE events from then on
 * (`record-rows.ts`). Messages reported before it read as the rows the table held, and deleting an execution after it
 * (the trigger of 0012, rewritten without the table) still takes its events.
 */
describe.each(DB_KINDS)(`the ${TAG} migration on %s`, (kind) => {
  const at = beforeMigration(kind, TAG);

  it('applies over reported messages: each reads as its lineage row was, and deletes still take the events', async () => {
    const db = at.db();
    await db.migrate(at.before());
    await db.run(`insert into executions (id, organization_id, environment, workflow_id, trigger, root_execution_id,
        created_at, updated_at, total_messages, completed_messages, in_progress_messages)
      values ('${ID}', 'default', 'test', 'wf', '{"type":"manual"}', '${ID}', now(), now(), 2, 1, 1)`);
    // a: initiated then completed; b: processing, then initiated; c: completed twice (counted once).
    const reports: [string, string][] = [
      ['a', 'INITIATED'],
      ['b', 'PROCESSING'],
      ['a', 'COMPLETED'],
      ['b', 'INITIATED'],
      ['c', 'COMPLETED'],
      ['c', 'COMPLETED'],
    ];
    for (const [i, [m, status]] of reports.entries()) await db.run(event(i + 1, m, status));
    await db.run(`insert into execution_messages (execution_id, message_id, status, counted) values
      ('${ID}', 'a', 'COMPLETED', true), ('${ID}', 'b', 'INITIATED', true), ('${ID}', 'c', 'COMPLETED', true)`);
    const before = await db.run(`select message_id, status::text, counted from execution_messages order by message_id`);
    await db.migrate(migrationsFolder);
    const statement = readMessages(rowsOfBatch([ID]), ['a', 'b', 'c', 'd']);
    const read = await db.run(statement.query.sql, statement.params);
    expect(
      read
        .map(messageOf)
        .sort((x, y) => x.messageId.localeCompare(y.messageId))
        .map(({ messageId, status, counted }) => ({ message_id: messageId, status, counted })),
    ).toEqual(before);
    expect(await db.run(`select to_regclass('execution_messages') as t`)).toEqual([{ t: null }]);
    await db.run(`delete from executions where id = '${ID}'`);
    expect(await db.run(`select count(*)::int as n from execution_events`)).toEqual([{ n: 0 }]);
  }, 90_000);
});
