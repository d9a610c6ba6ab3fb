import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';

/** The dashboard's run model in Chromium: filters in the URL, counts, overview, tree, attempts, live step timeline. */
const WAIT = { timeout: 15_000, interval: 100 };

async function open(browser: Browser, url: string, width = 1200, height = 860) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  // a terminal execution's event stream ends once replayed
  await page.locator('[data-testid=live]:is([data-state=live], [data-state=ended])').first().waitFor(WAIT);
  return { page, problems };
}

const rows = (page: Page) => page.locator('[data-testid=execution-row]');
const row = (page: Page, id: string) => page.locator(`[data-testid=execution-row][data-id="${id}"]`);
const rowIds = (page: Page) => rows(page).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
const chipCount = (page: Page, status: string) =>
  page.locator(`[data-filter=${status}] [data-testid=count]`).textContent();
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

let browser: Browser;
let s: TestServer;
beforeAll(async () => {
  browser = await launchChromium();
  s = await startTestServer('pglite');
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('dashboard: finding runs', () => {
  it('filters by a tag given in the URL, counts by status live, and keeps the filter on reload and back', async () => {
    const team = 'growth'; // unique to this file's server
    const tag = (value: string) => [{ key: 'team', value }];
    const a = await createExecution(s, {
      workflowId: 'nightly-etl',
      tags: [...tag(team), { key: 'env', value: 'prod' }],
    });
    const b = await createExecution(s, { workflowId: 'nightly-report', tags: tag(team) });
    const other = await createExecution(s, { workflowId: 'nightly-etl', tags: tag(`${team}-other`) });
    ok(
      await record(s, a.id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'extract', percentage: 30 } }]),
    );
    ok(await record(s, b.id, [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'COMPLETED' } }]));

    const { page, problems } = await open(browser, `${s.url}/?tag=team=${team}#/`);
    await row(page, a.id).waitFor(WAIT);
    await row(page, b.id).waitFor(WAIT);
    expect(new Set(await rowIds(page))).toEqual(new Set([a.id, b.id]));
    expect(await row(page, other.id).count()).toBe(0);
    expect(await page.locator('[data-testid=filter-tag]').textContent()).toContain(team);
    await expect.poll(() => page.locator('[data-testid=count-all]').textContent(), WAIT).toBe('2');
    await expect.poll(() => chipCount(page, 'RUNNING'), WAIT).toBe('1');
    expect(await chipCount(page, 'COMPLETED')).toBe('1');
    await expect.poll(() => page.locator('[data-testid=overview]').getAttribute('data-total'), WAIT).toBe('2');
    // p50/p95 per workflow over the finished ones: only nightly-report has finished
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid=durations] tbody tr')
            .evaluateAll((r) => r.map((e) => e.getAttribute('data-workflow'))),
        WAIT,
      )
      .toEqual(['nightly-report']);
    await shot(page, 'runs-filter-by-tag');

    // a change delivered live moves the counts (throttled re-read)
    ok(await record(s, a.id, [{ statusChanged: { to: 'FAILED', error: { code: 'E', message: 'boom' } } }]));
    await expect.poll(() => chipCount(page, 'FAILED'), WAIT).toBe('1');
    await expect.poll(() => chipCount(page, 'RUNNING'), WAIT).toBe('0');

    // a status chip narrows the list and goes into the URL; reload keeps it; back undoes it
    await page.locator('[data-filter=COMPLETED]').click();
    await expect.poll(() => rowIds(page), WAIT).toEqual([b.id]);
    expect(new URL(page.url()).search).toBe(`?status=COMPLETED&tag=team%3D${team}`);
    await page.reload();
    await page.locator('[data-testid=live][data-state=live]').first().waitFor(WAIT);
    await expect.poll(() => rowIds(page), WAIT).toEqual([b.id]);
    expect(await page.locator('[data-filter=COMPLETED]').getAttribute('aria-pressed')).toBe('true');
    await page.goBack();
    await expect.poll(async () => new Set(await rowIds(page)), WAIT).toEqual(new Set([a.id, b.id]));

    // clicking a tag in a row adds it to the filter; × removes it
    await row(page, a.id).locator('[data-testid=tag]', { hasText: 'prod' }).click();
    await expect.poll(() => rowIds(page), WAIT).toEqual([a.id]);
    expect(new URL(page.url()).searchParams.getAll('tag')).toEqual([`team=${team}`, 'env=prod']);
    await page.getByRole('button', { name: 'Remove tag env:prod' }).click();
    await expect.poll(async () => new Set(await rowIds(page)), WAIT).toEqual(new Set([a.id, b.id]));
    expect(problems).toEqual([]);
    await page.close();
  });

  it('narrows by workflow prefix and id prefix as one types, and says when nothing matches', async () => {
    const x = await createExecution(s, { workflowId: 'prefix-alpha-job' });
    const y = await createExecution(s, { workflowId: 'prefix-beta-job' });
    const { page, problems } = await open(browser, `${s.url}/`);
    await row(page, x.id).waitFor(WAIT);
    await page.locator('[data-testid=filter-workflow]').fill('prefix-al');
    await expect.poll(() => rowIds(page), WAIT).toEqual([x.id]);
    expect(new URL(page.url()).searchParams.get('workflow')).toBe('prefix-al');
    await page.locator('[data-testid=filter-workflow]').fill('');
    await page.locator('[data-testid=filter-id]').fill(y.id.slice(0, 13));
    await expect.poll(() => rowIds(page), WAIT).toEqual([y.id]);
    await page.locator('[data-testid=filter-range]').selectOption('1h');
    await expect.poll(() => new URL(page.url()).searchParams.get('range'), WAIT).toBe('1h');
    await expect.poll(() => rowIds(page), WAIT).toEqual([y.id]);
    // a custom range starts as the last 24 hours, in the URL as two times; one that ends before the rows hides them
    await page.locator('[data-testid=filter-range]').selectOption('custom');
    await expect.poll(() => new URL(page.url()).searchParams.get('from'), WAIT).toMatch(/Z$/);
    await expect.poll(() => rowIds(page), WAIT).toEqual([y.id]);
    await page.getByLabel('To', { exact: true }).fill('2020-01-01T00:00');
    await expect.poll(() => rowIds(page), WAIT).toEqual([]);
    await page.locator('[data-testid=filter-range]').selectOption('1h');
    await expect.poll(() => rowIds(page), WAIT).toEqual([y.id]);
    await page.locator('[data-testid=filter-tag-input]').fill('nobody:here');
    await page.locator('[data-testid=filter-tag-input]').press('Enter');
    await page.getByText('No executions match these filters.').waitFor(WAIT);
    await shot(page, 'runs-no-match');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('comes back from a detail with the filter, the loaded rows and the scroll position', async () => {
    const batch = `b${Date.now().toString(36)}`;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push((await createExecution(s, { workflowId: `batch-${i}`, tags: [{ key: 'batch', value: batch }] })).id);
    const { page, problems } = await open(browser, `${s.url}/?tag=batch=${batch}#/`, 1200, 700);
    await expect.poll(() => rows(page).count(), WAIT).toBe(50);
    await page.getByRole('button', { name: 'Load older executions' }).click();
    await expect.poll(() => rows(page).count(), WAIT).toBe(60);
    const target = row(page, ids[3] as string);
    await target.scrollIntoViewIfNeeded();
    const before = await page.evaluate(() => scrollY);
    expect(before).toBeGreaterThan(1000);
    await target.locator('a.open').click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    await page.goBack();
    await expect.poll(() => rows(page).count(), WAIT).toBe(60);
    expect(new URL(page.url()).searchParams.get('tag')).toBe(`batch=${batch}`);
    await expect.poll(() => page.evaluate(() => scrollY), WAIT).toBe(before);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('dashboard: a run and its relatives', () => {
  it('shows the tree: a parent links its children (live), a child links its parent', async () => {
    const parent = await createExecution(s, {
      workflowId: 'pipeline',
      tags: [
        { key: 'team', value: 'data' },
        { key: 'a-rather-long-tag-key-for-layout', value: 'a value long enough to need cutting short somewhere' },
      ],
    });
    const c1 = await createExecution(s, { workflowId: 'extract', parentExecutionId: parent.id });
    const c2 = await createExecution(s, { workflowId: 'load', parentExecutionId: parent.id });
    ok(await record(s, c1.id, [{ statusChanged: { to: 'RUNNING' } }, { statusChanged: { to: 'COMPLETED' } }]));
    const { page, problems } = await open(browser, `${s.url}/#/executions/${parent.id}`);
    const children = page.locator('[data-testid=children] li');
    await expect.poll(() => children.count(), WAIT).toBe(2);
    expect(await children.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id))).toEqual([c2.id, c1.id]);
    expect(await page.locator('.lineage [data-testid=tag]').count()).toBe(2);

    // a new child and a child's status change show without a reload
    const c3 = await createExecution(s, { workflowId: 'report', parentExecutionId: parent.id });
    await expect.poll(() => children.first().getAttribute('data-id'), WAIT).toBe(c3.id);
    ok(await record(s, c2.id, [{ statusChanged: { to: 'RUNNING' } }]));
    await expect
      .poll(() => page.locator(`[data-testid=children] li[data-id="${c2.id}"]`).getAttribute('data-status'), WAIT)
      .toBe('RUNNING');
    await shot(page, 'runs-parent-children');

    await page.locator(`[data-testid=children] li[data-id="${c2.id}"] a`).click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe(`#/executions/${c2.id}`);
    const up = page.locator('[data-testid=parent] a');
    await up.waitFor(WAIT);
    expect(await up.textContent()).toContain('pipeline');
    await up.click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe(`#/executions/${parent.id}`);
    await expect.poll(() => children.count(), WAIT).toBe(3);

    // a tag on the detail filters the list by it
    await page.locator('.lineage [data-testid=tag]', { hasText: 'team' }).click();
    await expect.poll(() => new URL(page.url()).search, WAIT).toBe('?tag=team%3Ddata');
    await row(page, parent.id).waitFor(WAIT);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the chain of attempts with a link to each', async () => {
    const failed = async (retryOf?: string) => {
      const { id } = await createExecution(s, { workflowId: 'flaky', ...(retryOf ? { retryOf } : {}) });
      ok(await record(s, id, [{ statusChanged: { to: 'FAILED', error: { code: 'E', message: 'flake' } } }]));
      return id;
    };
    const first = await failed();
    const second = await failed(first);
    const third = (await createExecution(s, { workflowId: 'flaky', retryOf: second })).id;
    const { page, problems } = await open(browser, `${s.url}/#/executions/${second}`);
    const attempts = page.locator('[data-testid=attempts]');
    await attempts.waitFor(WAIT);
    expect(await attempts.locator('[data-testid=attempt-of]').textContent()).toBe('attempt 2 of 3');
    expect(await attempts.locator('[data-testid=retry-of]').getAttribute('href')).toBe(`#/executions/${first}`);
    const links = await attempts
      .locator('[data-testid=attempt-link]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    expect(links).toEqual([`#/executions/${first}`, `#/executions/${third}`]);
    await shot(page, 'runs-attempts');
    await attempts.locator('[data-testid=attempt-link]').last().click();
    await expect.poll(() => page.locator('[data-testid=attempt-of]').textContent(), WAIT).toBe('attempt 3 of 3');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws the steps as a timeline that grows live and stops when a step ends', async () => {
    const { id } = await createExecution(s, { workflowId: 'timeline' });
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'extract', name: 'Extract', status: 'RUNNING' } },
      ]),
    );
    await new Promise((r) => setTimeout(r, 400));
    ok(
      await record(s, id, [
        { step: { stepId: 'extract', name: 'Extract', status: 'COMPLETED' } },
        { step: { stepId: 'load', name: 'Load', status: 'RUNNING' } },
      ]),
    );
    const { page, problems } = await open(browser, `${s.url}/#/executions/${id}`);
    const bar = (step: string) => page.locator(`[data-step=${step}] [data-testid=step-bar]`);
    await bar('load').waitFor(WAIT);
    expect(await bar('extract').getAttribute('data-status')).toBe('COMPLETED');
    expect(await bar('load').getAttribute('data-status')).toBe('RUNNING');
    const ms = async (step: string) => Number(await bar(step).getAttribute('data-ms'));
    const first = await ms('load');
    await expect.poll(() => ms('load'), WAIT).toBeGreaterThan(first + 1500); // it grows while the page is open
    expect(await page.locator('[data-step=load]').getAttribute('title')).toMatch(/^Load · running · \d/);
    await shot(page, 'runs-timeline-running');

    ok(
      await record(s, id, [
        { step: { stepId: 'load', name: 'Load', status: 'FAILED', error: { code: 'X', message: 'disk full' } } },
      ]),
    );
    await expect.poll(() => bar('load').getAttribute('data-status'), WAIT).toBe('FAILED');
    const ended = await ms('load');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await ms('load')).toBe(ended); // it stopped growing
    const colour = await bar('load').evaluate((el) => getComputedStyle(el).backgroundColor);
    const running = await bar('extract').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(colour).not.toBe(running);
    await shot(page, 'runs-timeline-failed');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fits a phone: filters, overview, tags, timeline and children', async () => {
    const parent = await createExecution(s, {
      workflowId: 'a-rather-long-workflow-name-for-phones-and-filters',
      tags: [
        { key: 'team', value: 'platform-infrastructure' },
        { key: 'region', value: 'eu-west-1' },
      ],
    });
    ok(
      await record(s, parent.id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'one', name: 'A step with a long name for a phone', status: 'COMPLETED' } },
        { step: { stepId: 'two', name: 'Two', status: 'RUNNING' } },
      ]),
    );
    await createExecution(s, {
      workflowId: 'phone-child',
      parentExecutionId: parent.id,
      tags: [{ key: 'team', value: 'platform-infrastructure' }],
    });
    const { page, problems } = await open(browser, `${s.url}/?tag=team=platform-infrastructure&range=24h#/`, 375, 740);
    await row(page, parent.id).waitFor(WAIT);
    await page.locator('[data-testid=overview]').waitFor(WAIT);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await shot(page, 'runs-phone-list');
    await row(page, parent.id).locator('a.open').click();
    await page.locator('[data-testid=children] li').first().waitFor(WAIT);
    await page.locator('[data-testid=step-bar]').first().waitFor(WAIT);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await shot(page, 'runs-phone-detail');
    expect(problems).toEqual([]);
    await page.close();
  });
});
