import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { pruneChanges } from '../../src/domain/changes.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { withDocuments } from '../support/documents.js';
import {
  createExecution,
  DB_KINDS,
  type DbKind,
  newDatabaseUrl,
  ok,
  record,
  startTestServer,
  type TestServer,
} from '../support/harness.js';
import { startProxy } from '../support/proxy.js';

// The list runs on the change feed (API.md §9, issue 19 item 3): read once, then kept current by one
// `executionChanges` subscription that resumes from its cursor after a drop or a restart, without reading again.

const WAIT = { timeout: 20_000, interval: 100 };

/** A page that counts its reloads and the `executions` list queries it sends, and records anything that broke. */
async function open(browser: Browser, url: string) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
  const problems: string[] = [];
  let loads = 0;
  let listReads = 0;
  let subscriptions = 0;
  let updated = 0;
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('load', () => loads++);
  page.on('request', (r) => {
    const body = withDocuments(r.postData() ?? '');
    if (/\bexecutions\(/.test(body)) listReads++;
    if (/\bexecutionChanges\(/.test(body)) subscriptions++;
    if (/\bexecutionUpdated\(/.test(body)) updated++;
  });
  await page.goto(url);
  await live(page);
  return {
    page,
    problems,
    loads: () => loads,
    listReads: () => listReads,
    subscriptions: () => subscriptions,
    /** `executionUpdated` subscriptions (the list has none; a detail's children do). */
    updated: () => updated,
  };
}

const live = (page: Page) =>
  page.locator('[data-testid=live][data-state=live]').first().waitFor({ timeout: WAIT.timeout });
const row = (page: Page, id: string) => page.locator(`[data-testid=execution-row][data-id="${id}"]`);
const status = (page: Page, id: string) => row(page, id).getAttribute('data-status', { timeout: 1000 });
const progress = (page: Page, id: string) =>
  row(page, id).locator('[data-testid=progress]').getAttribute('data-value', { timeout: 1000 });
const shown = (page: Page) =>
  page.locator('[data-testid=execution-row]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function running(s: TestServer, workflowId: string, percentage = 10) {
  const { id } = await createExecution(s, { workflowId });
  ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'work', percentage } }]));
  return id;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(DB_KINDS)('the list on the change feed (%s)', (kind: DbKind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(() => s?.close());

  it('shows runs created, updated and completed through the API without a reload or a second list read', async () => {
    const before = await running(s, `feed-live-${kind}-old`, 5);
    const { page, problems, loads, listReads, subscriptions, updated } = await open(
      browser,
      `${s.url}/?workflow=feed-live`,
    );
    await row(page, before).waitFor(WAIT);

    const { id } = await createExecution(s, { workflowId: `feed-live-${kind}` });
    await row(page, id).waitFor(WAIT);
    expect(await status(page, id)).toBe('PENDING');
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'extract', percentage: 40 } }]));
    await expect.poll(() => status(page, id), WAIT).toBe('RUNNING');
    await expect.poll(() => progress(page, id), WAIT).toBe('40');
    ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
    await expect.poll(() => status(page, id), WAIT).toBe('COMPLETED');
    ok(await record(s, before, [{ progress: { step: 'load', percentage: 90 } }]));
    await expect.poll(() => progress(page, before), WAIT).toBe('90');
    expect(await shown(page)).toEqual([id, before]);

    expect(loads()).toBe(1);
    expect(listReads()).toBe(1);
    expect(subscriptions()).toBe(1);
    expect(updated()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('sees a run leave a tag filter, and resumes from its cursor after a detail instead of reading the list again', async () => {
    const team = `feed-tags-${kind}`;
    const tagged = (await createExecution(s, { workflowId: team, tags: [{ key: 'team', value: team }] })).id;
    const other = (await createExecution(s, { workflowId: team, tags: [{ key: 'team', value: team }] })).id;
    const { page, problems, loads, listReads } = await open(browser, `${s.url}/?tag=team=${team}`);
    await expect.poll(() => shown(page), WAIT).toEqual([other, tagged]);

    // the subscription cannot filter by tag: a run whose tag goes would never be sent
    ok(await record(s, tagged, [{ tags: { remove: ['team'] } }]));
    await expect.poll(() => shown(page), WAIT).toEqual([other]);
    ok(await record(s, tagged, [{ tags: { set: [{ key: 'team', value: team }] } }]));
    await expect.poll(() => shown(page), WAIT).toEqual([other, tagged]);

    // the list's stream closes under a detail; back on the list, what changed meanwhile is replayed from the cursor
    await row(page, other).locator('a.open').click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    ok(await record(s, tagged, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 65 } }]));
    const added = (await createExecution(s, { workflowId: team, tags: [{ key: 'team', value: team }] })).id;
    await page.getByRole('link', { name: '← All executions' }).first().click();
    await expect.poll(() => shown(page), WAIT).toEqual([added, other, tagged]);
    await expect.poll(() => progress(page, tagged), WAIT).toBe('65');
    expect(loads()).toBe(1);
    expect(listReads()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('after a dropped connection, resumes from its cursor and shows every missed change without reading the list again', async () => {
    const proxy = await startProxy(s.url);
    try {
      const wf = `feed-drop-${kind}`;
      const stays = await running(s, wf, 20);
      const leaves = await running(s, wf, 30);
      const joins = (await createExecution(s, { workflowId: wf })).id;
      const { page, problems, loads, listReads } = await open(browser, `${proxy.url}/?status=RUNNING&workflow=${wf}`);
      await row(page, leaves).waitFor(WAIT);
      expect(await shown(page)).toEqual([leaves, stays]);
      expect(await page.locator('[data-testid=reconnecting]').count()).toBe(0);

      proxy.refuse(true);
      proxy.dropAll();
      await page.locator('[data-testid=reconnecting]').waitFor(WAIT);
      expect(await page.locator('[data-testid=live]').first().getAttribute('data-state')).toBe('reconnecting');
      // written while the page cannot reach the server
      ok(await record(s, leaves, [{ statusChanged: { to: 'COMPLETED' } }]));
      ok(await record(s, joins, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 15 } }]));
      ok(await record(s, stays, [{ progress: { step: 'load', percentage: 70 } }]));
      const fresh = await running(s, wf, 50);
      const quick = await running(s, wf, 60);
      ok(await record(s, quick, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'x' } } }]));
      await page.waitForTimeout(300);
      expect(await shown(page)).toEqual([leaves, stays]); // nothing came through the blocked connection
      await shot(page, 'dashboard-reconnect-before');

      proxy.refuse(false);
      await expect.poll(() => shown(page), WAIT).toEqual([fresh, joins, stays]);
      expect(await progress(page, stays)).toBe('70');
      expect(await progress(page, joins)).toBe('15');
      await page.locator('[data-testid=reconnecting]').waitFor({ state: 'detached', timeout: WAIT.timeout });
      await live(page);
      // the counts are re-read (throttled) when changes arrive, the replayed ones included
      const count = (filter: string) => page.locator(`[data-filter=${filter}] [data-testid=count]`).textContent();
      await expect.poll(() => count('RUNNING'), WAIT).toBe('3');
      expect(await count('COMPLETED')).toBe('1');
      expect(await count('FAILED')).toBe('1');
      expect(await page.locator('[data-testid=count-all]').textContent()).toBe('5');
      // and so is the overview (throttled at 3 s): the three running now, not the two it showed before
      await expect.poll(() => page.locator('[data-testid=overview]').getAttribute('data-total'), WAIT).toBe('3');
      await shot(page, 'dashboard-reconnect-after');

      // and it goes on live on the new connection
      ok(await record(s, fresh, [{ statusChanged: { to: 'COMPLETED' } }]));
      await expect.poll(() => shown(page), WAIT).toEqual([joins, stays]);
      expect(loads()).toBe(1);
      expect(listReads()).toBe(1);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  it('re-reads the list, once, when its cursor expired while it was disconnected', async () => {
    const proxy = await startProxy(s.url);
    try {
      const wf = `feed-expired-${kind}`;
      const first = await running(s, wf);
      const { page, problems, loads, listReads } = await open(browser, `${proxy.url}/?workflow=${wf}`);
      await row(page, first).waitFor(WAIT);
      proxy.refuse(true);
      proxy.dropAll();
      await page.locator('[data-testid=reconnecting]').waitFor(WAIT);
      ok(await record(s, first, [{ statusChanged: { to: 'COMPLETED' } }]));
      const second = await running(s, wf);
      // every change up to now pruned, as VIGIL_CHANGES_RETENTION_HOURS would after a day: the page's cursor expired
      expect(await pruneChanges(s.database.db, 0, new Date())).toBeGreaterThan(0);
      proxy.refuse(false);
      await expect.poll(() => shown(page), WAIT).toEqual([second, first]);
      await expect.poll(() => status(page, first), WAIT).toBe('COMPLETED');
      await live(page);
      expect(listReads()).toBe(2);
      const third = await running(s, wf);
      await expect.poll(() => shown(page), WAIT).toEqual([third, second, first]);
      expect(listReads()).toBe(2);
      expect(loads()).toBe(1);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await proxy.close();
    }
  });
});

describe.each(DB_KINDS)('the list across a server restart (%s)', (kind: DbKind) => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('resumes from its cursor once the server is back and shows what changed while it was down', async () => {
    // The same data for every server: a PGlite directory, or one PostgreSQL database.
    const dir = mkdtempSync(join(tmpdir(), 'vigil-feed-ui-'));
    dirs.push(dir);
    const databaseUrl = kind === 'postgres' ? await newDatabaseUrl() : undefined;
    const start = async (port = 0) =>
      startTestServer(kind, {
        env: { PORT: String(port) },
        ...(databaseUrl ? { databaseUrl } : { database: await openDatabase({ dataDir: dir }) }),
      });

    const a = await start();
    const port = Number(new URL(a.url).port);
    const wf = `feed-restart-${kind}`;
    const done = await running(a, wf, 40);
    const waits = (await createExecution(a, { workflowId: wf })).id;
    const { page, problems, loads, listReads } = await open(browser, `${a.url}/?status=PENDING,RUNNING&workflow=${wf}`);
    await expect.poll(() => shown(page), WAIT).toEqual([waits, done]);

    await a.close();
    await page.locator('[data-testid=reconnecting]').waitFor(WAIT);

    // Written through a second server while the first one's address answers nothing.
    const b = await start();
    ok(await record(b, done, [{ statusChanged: { to: 'COMPLETED' } }]));
    ok(await record(b, waits, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'load', percentage: 55 } }]));
    const created = await running(b, wf, 25);
    await b.close();
    expect(await shown(page)).toEqual([waits, done]);

    const c = await start(port);
    try {
      await expect.poll(() => shown(page), WAIT).toEqual([created, waits]);
      expect(await status(page, waits)).toBe('RUNNING');
      expect(await progress(page, waits)).toBe('55');
      await page.locator('[data-testid=reconnecting]').waitFor({ state: 'detached', timeout: WAIT.timeout });
      ok(await record(c, created, [{ statusChanged: { to: 'COMPLETED' } }]));
      await expect.poll(() => shown(page), WAIT).toEqual([waits]); // live again on the restarted server
      expect(loads()).toBe(1);
      expect(listReads()).toBe(1);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await c.close();
    }
  });
});
