import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { startProxy } from '../support/proxy.js';
import { TestKeys } from '../support/test-keys.js';

const WAIT = { timeout: 15_000, interval: 100 };

/** A page that records anything that went wrong in it, and every origin it asked for. */
async function open(browser: Browser, url: string, width = 1200, height = 860) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  const origins = new Set<string>();
  let loads = 0;
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  page.on('load', () => loads++);
  await page.goto(url);
  await waitLive(page);
  return { page, problems, origins, loads: () => loads };
}

function waitLive(page: Page) {
  return page.locator('[data-testid=live][data-state=live]').first().waitFor({ timeout: WAIT.timeout });
}

const row = (page: Page, id: string) => page.locator(`[data-testid=execution-row][data-id="${id}"]`);
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard in Chromium', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s?.close());

  it('shows a new execution live and moves its progress and status without a reload', async () => {
    const { page, problems, origins, loads } = await open(browser, `${s.url}/`);
    const { id } = await createExecution(s, { workflowId: 'browser-etl', workflowVersion: '2' });
    await row(page, id).waitFor(WAIT);
    expect(await row(page, id).getAttribute('data-status')).toBe('PENDING');

    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'extract', percentage: 40 } }]));
    await expect.poll(() => row(page, id).getAttribute('data-status'), WAIT).toBe('RUNNING');
    await expect
      .poll(() => row(page, id).locator('[data-testid=progress]').getAttribute('data-value'), WAIT)
      .toBe('40');
    expect(await row(page, id).textContent()).toContain('extract');

    ok(await record(s, id, [{ progress: { step: 'load', percentage: 85 } }]));
    await expect
      .poll(() => row(page, id).locator('[data-testid=progress]').getAttribute('data-value'), WAIT)
      .toBe('85');
    await shot(page, 'dashboard-list');

    // a second, newer execution goes on top
    const second = await createExecution(s, { workflowId: 'browser-second' });
    await row(page, second.id).waitFor(WAIT);
    const ids = await page.locator('[data-testid=execution-row]').evaluateAll((els) => els.map((e) => e.dataset.id));
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(id));

    expect(loads()).toBe(1);
    expect(problems).toEqual([]);
    expect([...origins]).toEqual([s.url]); // every asset and request from Vigil itself
    await page.close();
  });

  it('opens the detail view, streams events as they happen, and cancels after a confirmation', async () => {
    const { id } = await createExecution(s, { workflowId: 'browser-detail' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'start', percentage: 5 } }]));
    const { page, problems } = await open(browser, `${s.url}/`);
    await row(page, id).locator('a.open').click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    expect(new URL(page.url()).hash).toBe(`#/executions/${id}`);
    const events = page.locator('[data-testid=events] li');
    await expect.poll(() => events.count(), WAIT).toBe(2);

    ok(
      await record(s, id, [
        { step: { stepId: 'extract', name: 'Extract', status: 'RUNNING' } },
        { message: { messageId: 'm1', status: 'INITIATED' } },
        { message: { messageId: 'm1', status: 'COMPLETED' } },
        { message: { messageId: 'm2', status: 'INITIATED' } },
        { message: { messageId: 'm2', status: 'FAILED', error: { code: 'BAD', message: 'bad row' } } },
        { progress: { step: 'extract', percentage: 50 } },
      ]),
    );
    await expect.poll(() => events.count(), WAIT).toBe(8);
    await expect.poll(() => events.last().textContent(), WAIT).toContain('50% extract');
    await expect.poll(() => page.locator('[data-testid=success-rate]').textContent(), WAIT).toBe('50.0%');
    await expect.poll(() => page.locator('[data-testid=steps]').textContent(), WAIT).toContain('Extract');
    await shot(page, 'dashboard-detail');

    // Cancel asks first; "Back" leaves the execution alone
    await page.getByRole('button', { name: 'Cancel execution' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: WAIT.timeout });
    expect(
      ok(await s.gql<{ execution: { status: string } }>(`{ execution(id: "${id}") { status } }`)).execution.status,
    ).toBe('RUNNING');

    await page.getByRole('button', { name: 'Cancel execution' }).click();
    await dialog.getByRole('button', { name: 'Cancel execution' }).click();
    await expect.poll(() => page.locator('[data-testid=detail]').getAttribute('data-status'), WAIT).toBe('CANCELLED');
    await expect.poll(() => events.last().textContent(), WAIT).toContain('RUNNING → CANCELLED');
    await expect.poll(() => page.locator('[data-testid=live]').last().getAttribute('data-state'), WAIT).toBe('ended');
    expect(await page.locator('[data-testid=actions]').count()).toBe(0);
    expect(
      ok(await s.gql<{ execution: { status: string } }>(`{ execution(id: "${id}") { status } }`)).execution.status,
    ).toBe('CANCELLED');
    await shot(page, 'dashboard-cancelled');

    await page.getByRole('link', { name: '← All executions' }).click();
    await expect.poll(() => row(page, id).getAttribute('data-status'), WAIT).toBe('CANCELLED');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('filters by status', async () => {
    const running = await createExecution(s, { workflowId: 'filter-running' });
    ok(await record(s, running.id, [{ statusChanged: { to: 'RUNNING' } }]));
    const failed = await createExecution(s, { workflowId: 'filter-failed' });
    ok(await record(s, failed.id, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'x' } } }]));
    const { page } = await open(browser, `${s.url}/`);
    await row(page, failed.id).waitFor(WAIT);
    await page.locator('[data-filter=FAILED]').click();
    await expect.poll(() => row(page, running.id).count(), WAIT).toBe(0);
    const statuses = await page
      .locator('[data-testid=execution-row]')
      .evaluateAll((els) => els.map((e) => e.dataset.status));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['FAILED']));
    // an execution that starts to match appears live
    ok(await record(s, running.id, [{ statusChanged: { to: 'FAILED', error: { code: 'X', message: 'x' } } }]));
    await row(page, running.id).waitFor(WAIT);
    await page.close();
  });

  it('re-attaches its streams after the connection drops, without losing or repeating an event', async () => {
    const proxy = await startProxy(s.url);
    try {
      const { id } = await createExecution(s, { workflowId: 'browser-drop' });
      ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { percentage: 10 } }]));
      const { page } = await open(browser, `${proxy.url}/#/executions/${id}`);
      const events = page.locator('[data-testid=events] li');
      await expect.poll(() => events.count(), WAIT).toBe(2);

      proxy.refuse(true);
      proxy.dropAll();
      ok(await record(s, id, [{ progress: { percentage: 20 } }, { progress: { percentage: 30 } }]));
      await expect
        .poll(() => page.locator('[data-testid=live]').last().getAttribute('data-state'), WAIT)
        .toBe('reconnecting');
      proxy.refuse(false);
      await expect.poll(() => events.count(), WAIT).toBe(4);
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      await expect.poll(() => events.count(), WAIT).toBe(5);
      const seqs = await events.locator('.seq').allTextContents();
      expect(seqs).toEqual(['#1', '#2', '#3', '#4', '#5']);
      await expect.poll(() => page.locator('[data-testid=detail]').getAttribute('data-status'), WAIT).toBe('COMPLETED');
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  it('switches environment with the picker and keeps the choice for the tab', async () => {
    const inLive = await createExecution(s, { workflowId: 'env-live' }, { 'x-environment': 'live' });
    const inTest = await createExecution(s, { workflowId: 'env-test' });
    const { page, problems } = await open(browser, `${s.url}/`);
    await row(page, inTest.id).waitFor(WAIT);
    expect(await row(page, inLive.id).count()).toBe(0);

    await page.locator('[data-testid=environment]').selectOption('live');
    await row(page, inLive.id).waitFor(WAIT);
    expect(await row(page, inTest.id).count()).toBe(0);
    await waitLive(page);
    const later = await createExecution(s, { workflowId: 'env-live-2' }, { 'x-environment': 'live' });
    await row(page, later.id).waitFor(WAIT);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.environment'))).toBe('live');

    await page.reload();
    await row(page, inLive.id).waitFor(WAIT);
    expect(await page.locator('[data-testid=environment]').inputValue()).toBe('live');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the error's details, and the steps the end of the execution closed", async () => {
    const { id } = await createExecution(s, { workflowId: 'browser-error-details' });
    const details = { table: 'orders', badRows: [17, 42], hint: 'the upstream export was truncated' };
    ok(
      await record(s, id, [
        { statusChanged: { to: 'RUNNING' } },
        { step: { stepId: 'extract', name: 'Extract', status: 'COMPLETED' } },
        { step: { stepId: 'load', name: 'Load', status: 'RUNNING' } },
        { statusChanged: { to: 'FAILED', error: { code: 'LOAD_FAILED', message: 'bad rows', step: 'load', details } } },
      ]),
    );
    const { page, problems } = await open(browser, `${s.url}/`);
    await row(page, id).locator('a.open').click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    const shown = page.locator('[data-testid=error] [data-testid=error-details]');
    await shown.waitFor(WAIT);
    expect(JSON.parse((await shown.textContent()) ?? '')).toEqual(details);
    expect(await page.locator('[data-testid=error]').textContent()).toContain('LOAD_FAILED: bad rows (step load)');
    const steps = page.locator('[data-testid=steps] li');
    expect(await steps.nth(1).locator('[data-testid=status]').textContent()).toBe('CANCELLED');
    await expect.poll(() => page.locator('[data-testid=events] li').count(), WAIT).toBe(5);
    expect(await page.locator('[data-testid=events] li').nth(3).textContent()).toContain('step Load CANCELLED');
    await shot(page, 'dashboard-error-details');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fits a phone-width screen', async () => {
    const { id } = await createExecution(s, { workflowId: 'a-rather-long-workflow-name-for-phones' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }, { progress: { step: 'load', percentage: 60 } }]));
    const { page } = await open(browser, `${s.url}/`, 375, 740);
    await row(page, id).waitFor(WAIT);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot(page, 'dashboard-phone-list');
    await row(page, id).locator('a.open').click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    await expect.poll(() => page.locator('[data-testid=events] li').count(), WAIT).toBe(2);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot(page, 'dashboard-phone-detail');
    await page.close();
  });
});

describe('dashboard with auth on', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite', { auth: new TestKeys() });
  });
  afterAll(() => s?.close());

  it('asks for a key, keeps it for the tab, and shows admin actions only to an admin key', async () => {
    const { id } = await createExecution(s, { workflowId: 'auth-ui' }, TestKeys.headers('admin'));
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }], TestKeys.headers('admin')));
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto(`${s.url}/#/executions/${id}`);
    const input = page.locator('[data-testid=api-key]');
    await input.waitFor(WAIT);
    await shot(page, 'dashboard-key-prompt');

    await input.fill('not-a-key');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByText('This key was not accepted.').waitFor(WAIT);

    await input.fill(TestKeys.secret('writer'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Cancel execution' }).waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Mark failed' }).count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBe(TestKeys.secret('writer'));

    // the key outlives a reload of the tab; forgetting it brings the prompt back
    await page.reload();
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Forget key' }).click();
    await input.waitFor(WAIT);

    await input.fill(TestKeys.secret('admin'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('button', { name: 'Mark failed' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.getByLabel('Reason (optional)').fill('stuck since Tuesday');
    await dialog.getByRole('button', { name: 'Mark failed' }).click();
    await expect.poll(() => page.locator('[data-testid=detail]').getAttribute('data-status'), WAIT).toBe('FAILED');
    await expect.poll(() => page.locator('[data-testid=error]').textContent(), WAIT).toContain('stuck since Tuesday');
    await page.close();
  });

  it('shows no actions to a read-only key', async () => {
    const { id } = await createExecution(s, { workflowId: 'auth-read' }, TestKeys.headers('admin'));
    const page = await browser.newPage();
    await page.addInitScript((key) => sessionStorage.setItem('vigil.apiKey', key), TestKeys.secret('reader'));
    await page.goto(`${s.url}/#/executions/${id}`);
    await page.locator('[data-testid=detail]').waitFor(WAIT);
    await waitLive(page);
    expect(await page.locator('[data-testid=actions]').count()).toBe(0);
    await page.close();
  });
});
