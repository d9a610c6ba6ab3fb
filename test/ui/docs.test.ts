import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/harness.js';

const WAIT = { timeout: 30_000, interval: 100 };

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

describe('the REST reference (/docs) in Chromium', () => {
  it('lists the operations by what they do, and takes the reader to one', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    await page.goto(`${s.url}/docs`);

    const link = page.locator('nav').getByRole('link', { name: /^GET Get an execution/ });
    await link.click();
    await expect
      .poll(() => page.evaluate(() => decodeURIComponent(location.hash)), WAIT)
      .toBe('#get--api-v1-executions-execution_id-');
    const section = page.locator('section[id="get--api-v1-executions-execution_id-"]');
    await expect.poll(() => section.isVisible(), WAIT).toBe(true);
    const box = await section.boundingBox();
    expect(box?.y).toBeGreaterThanOrEqual(-1); // scrolled to it: its top is in view
    expect(box?.y).toBeLessThan(100);
    const text = (await section.textContent()) ?? '';
    expect(text).toContain('operationId getExecution');
    expect(text).toContain('X-Environment');
    expect(text).toContain('Compatibility note: the shape of seed 004');
    await page.screenshot({ path: join(ARTIFACTS, 'docs.png') });

    // an event stream shows its events and what each one's data holds
    await page
      .locator('nav')
      .getByRole('link', { name: /Follow an execution's events live/ })
      .click();
    const stream = page.locator('section[id="get--api-v1-executions-execution_id-events"]');
    await expect.poll(() => stream.textContent(), WAIT).toContain('JSON StatusEventData');
    expect(problems).toEqual([]);
    expect([...origins]).toEqual([s.url]); // offline: nothing from elsewhere
    await page.close();
  });
});
