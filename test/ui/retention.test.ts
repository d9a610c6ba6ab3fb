import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read } from '../retention/support.js';
import { launchChromium } from '../support/browser.js';
import { createExecution, startTestServer, type TestServer } from '../support/harness.js';

const WAIT = { timeout: 15_000, interval: 100 };

describe('the dashboard and retention, in Chromium', () => {
  let browser: Browser;
  let s: TestServer;
  beforeAll(async () => {
    browser = await launchChromium();
    s = await startTestServer('pglite', { env: { VIGIL_RETENTION_DAYS: '14' } });
  });
  afterAll(async () => {
    await s?.close();
    await browser?.close();
  });

  it('toggles the pin of an execution from its header, and shows the period and the oldest execution kept', async () => {
    const { id, createdAt } = await createExecution(s, { workflowId: 'ui-pin' });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${s.url}/#/executions/${id}`);
    const pin = page.locator('[data-testid=pin]');
    await pin.waitFor(WAIT);
    expect(await pin.getAttribute('aria-pressed')).toBe('false');
    await pin.click();
    await expect.poll(() => pin.getAttribute('aria-pressed'), WAIT).toBe('true');
    expect((await read(s, id))?.pinned).toBe(true);
    await pin.click();
    await expect.poll(() => pin.getAttribute('aria-pressed'), WAIT).toBe('false');
    expect((await read(s, id))?.pinned).toBe(false);

    const footer = page.locator('[data-testid=retention]');
    await footer.waitFor(WAIT);
    expect(await footer.textContent()).toContain('kept 14 days');
    expect(await footer.locator('time').getAttribute('datetime')).toBe(createdAt);
    expect(problems).toEqual([]);
    await page.close();
  });
});
