import { describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { DB_KINDS } from '../support/harness.js';
import { beforeMigration } from '../support/migrations.js';

const TAG = '0013_tag_workflow';

const insert = (id: string, workflow: string, tags: string) =>
  `insert into executions (id, organization_id, environment, workflow_id, trigger, tags, root_execution_id,
     created_at, updated_at)
   values ('${id}', 'default', 'test', '${workflow}', '{"type":"manual"}', '${tags}', '${id}', now(), now())`;

/**
 * Migration 0013 copies each execution's workflow into its rows of the tag index (`execution_tags.workflow_id`, which
 * a tag filtered by workflow reads): the rows of executions tagged before it take their execution's workflow, and the
 * triggers write it from then on.
 */
describe.each(DB_KINDS)(`the ${TAG} migration on %s`, (kind) => {
  const at = beforeMigration(kind, TAG);

  it('applies over tagged executions: their tag rows take the workflow, and the triggers write it after', async () => {
    const db = at.db();
    await db.migrate(at.before());
    await db.run(insert('01900000-0000-7000-8000-000000000001', 'wf-a', '{"team":"red","customer":"c1"}'));
    await db.run(insert('01900000-0000-7000-8000-000000000002', 'wf-b', '{"team":"red"}'));
    await db.migrate(migrationsFolder);
    await db.run(insert('01900000-0000-7000-8000-000000000003', 'wf-c', '{"team":"blue"}'));
    await db.run(`update executions set tags = '{"team":"red","tier":"gold"}', status = 'RUNNING'
      where id = '01900000-0000-7000-8000-000000000002'`);
    const rows = await db.run(
      `select right(execution_id::text, 1) as e, key, value, workflow_id, status::text from execution_tags
       order by execution_id, key`,
    );
    expect(rows).toEqual([
      { e: '1', key: 'customer', value: 'c1', workflow_id: 'wf-a', status: 'PENDING' },
      { e: '1', key: 'team', value: 'red', workflow_id: 'wf-a', status: 'PENDING' },
      { e: '2', key: 'team', value: 'red', workflow_id: 'wf-b', status: 'RUNNING' },
      { e: '2', key: 'tier', value: 'gold', workflow_id: 'wf-b', status: 'RUNNING' },
      { e: '3', key: 'team', value: 'blue', workflow_id: 'wf-c', status: 'PENDING' },
    ]);
  }, 90_000);
});
