import { describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { DB_KINDS } from '../support/harness.js';
import { beforeMigration } from '../support/migrations.js';

describe.each(DB_KINDS)('the 0004_run_model migration on %s', (kind) => {
  const at = beforeMigration(kind, '0004_run_model');

  it('applies over existing executions: each becomes the root of its own tree, untagged, attempt 1', async () => {
    const db = at.db();
    await db.migrate(at.before());
    await db.run(`insert into executions (id, organization_id, environment, workflow_id, trigger, created_at, updated_at)
      values ('01900000-0000-7000-8000-000000000001', 'default', 'test', 'wf', '{"type":"manual"}', now(), now())`);
    await db.migrate(migrationsFolder);
    const [row] = await db.run(
      `select root_execution_id::text as root, parent_execution_id, tags, depth, attempt, retry_of, pinned from executions`,
    );
    expect(row).toEqual({
      root: '01900000-0000-7000-8000-000000000001',
      parent_execution_id: null,
      tags: {},
      depth: 1,
      attempt: 1,
      retry_of: null,
      pinned: false,
    });
    const [type] = await db.run(`select 'TAGS_CHANGED'::execution_event_type::text as t`);
    expect(type?.t).toBe('TAGS_CHANGED');
  }, 90_000); // a fresh PGlite applies every migration: ~10 s alone, it passed 30 s once under a loaded full suite
});
