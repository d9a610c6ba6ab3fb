import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createExecution, DB_KINDS, ok, type TestServer } from '../support/harness.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { rest } from '../support/rest.js';
import { COMPLETE, CREATE_WEBHOOK, createWebhook, startHookServer } from './support.js';

describe.each(DB_KINDS)('a webhook filter by tags on %s', (kind) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    s = await startHookServer(kind);
    rx = await startReceiver();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  it('delivers the changes of executions with every given tag, and no other', async () => {
    rx.respond = () => ({ status: 200 });
    const team = { key: 'team', value: `hooks-${kind}` };
    await createWebhook(s, { url: rx.url, events: ['execution.terminal'], filter: { tags: [team] } });
    const other = await createExecution(s, { workflowId: 'wf-hook-tags', tags: [{ key: 'team', value: 'else' }] });
    const untagged = await createExecution(s, { workflowId: 'wf-hook-tags' });
    const mine = await createExecution(s, { workflowId: 'wf-hook-tags', tags: [team, { key: 'x', value: '1' }] });
    for (const e of [other, untagged, mine]) ok(await s.gql(COMPLETE, { id: e.id }));
    const got = await rx.waitFor(1, (r) => r.body.data?.execution?.workflowId === 'wf-hook-tags', 3000);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong delivery to arrive
    const ids = rx.received
      .filter((r) => r.body.data?.execution?.workflowId === 'wf-hook-tags')
      .map((r) => r.body.data?.execution?.id);
    expect(ids).toEqual([mine.id]);
    expect(got[0]?.body.data?.execution?.tags).toEqual([team, { key: 'x', value: '1' }]);
  });

  it('shows the tags of a filter on both surfaces and refuses bad ones naming the field', async () => {
    const created = await rest<{ filter: unknown }>(s, 'POST', '/api/v1/webhooks', {
      json: { url: rx.url, events: ['execution.terminal'], filter: { tags: [{ key: 'env', value: 'prod' }] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.filter).toEqual({ workflow_id: null, status: null, tags: [{ key: 'env', value: 'prod' }] });
    const listed = ok(
      await s.gql<{ webhooks: { filter: { tags: unknown } | null }[] }>(
        '{ webhooks { filter { tags { key value } } } }',
      ),
    );
    expect(listed.webhooks.map((w) => w.filter?.tags)).toContainEqual([{ key: 'env', value: 'prod' }]);
    const bad = await s.gql(CREATE_WEBHOOK, {
      input: { url: rx.url, events: ['execution.terminal'], filter: { tags: [{ key: 'a b', value: '' }] } },
    });
    expect(codeOf(bad)).toBe('VALIDATION_FAILED');
    const issues = (bad.errors?.[0]?.extensions?.issues ?? []) as { loc: unknown[] }[];
    expect(issues[0]?.loc).toEqual(['filter', 'tags', 0, 'key']);
    const badRest = await rest<{ detail: { loc: unknown[] }[] }>(s, 'POST', '/api/v1/webhooks', {
      json: {
        url: rx.url,
        events: ['execution.terminal'],
        filter: {
          tags: [
            { key: 'k', value: '1' },
            { key: 'k', value: '2' },
          ],
        },
      },
    });
    expect(badRest.status).toBe(422);
    expect(badRest.body.detail[0]?.loc).toEqual(['body', 'filter', 'tags', 1, 'key']);
  });
});
