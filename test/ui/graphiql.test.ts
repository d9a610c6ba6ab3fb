import { join } from 'node:path';
import { parse, validate } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../../src/graphql/graphiql.js';
import { schema } from '../../src/graphql/schema.js';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { ok, startTestServer, type TestServer } from '../support/harness.js';
import { TestKeys } from '../support/test-keys.js';

const WAIT = { timeout: 60_000, interval: 100 };
const LIST = `query($w: String) { executions(filter: { workflowId: $w }) { edges { node { id status } } } }`;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A page that records what went wrong in it and every origin it asked for. */
async function open(url: string, init?: () => void) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const problems: string[] = [];
  const origins = new Set<string>();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return { page, problems, origins };
}

/** What an element shows (the editors lay text out with no-break spaces). */
const textOf = async (page: Page, selector: string) =>
  ((await page.locator(selector).textContent()) ?? '').replaceAll('\u00a0', ' ');

/** Runs one of the tab's operations from the run button's menu, and answers the result pane's text. */
async function run(page: Page, operation: string): Promise<string> {
  await page.locator('.graphiql-execute-button').click();
  await page.getByRole('menuitem', { name: operation }).click();
  await expect.poll(() => textOf(page, '.graphiql-response'), WAIT).toContain('"data"');
  return textOf(page, '.graphiql-response');
}

const editorText = (page: Page) => textOf(page, '.graphiql-query-editor');

// GraphiQL's page is 9 MB of inlined JavaScript: seconds to load on a busy machine
describe('GraphiQL', { timeout: 120_000 }, () => {
  it("opens on a tab of Vigil's example operations, all valid against the schema", () => {
    const names = [...EXAMPLE_OPERATIONS.matchAll(/^(query|mutation|subscription) (\w+)/gm)].map((m) => m[2]);
    expect(names).toEqual(['CreateExecution', 'WatchEvents', 'RecordEvents', 'WaitForExecution']);
    expect(validate(schema, parse(EXAMPLE_OPERATIONS)).map((e) => e.message)).toEqual([]);
  });

  describe('with auth on', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer('pglite', { auth: new TestKeys() });
    });
    afterAll(() => s?.close());

    it('asks for a key, sends it, and runs the example operations with it', async () => {
      const { page, problems, origins } = await open(`${s.url}/graphql`);
      const input = page.getByLabel('API key');
      await input.waitFor(WAIT);
      await page.getByText('This server needs an API key').waitFor(WAIT);
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql-key-prompt.png') });
      await input.fill('not-a-key');
      await page.getByRole('button', { name: 'Use this key' }).click();
      await page.getByText('That key was refused').waitFor(WAIT);
      await input.fill(TestKeys.secret('writer'));
      await page.getByRole('button', { name: 'Use this key' }).click();

      await expect.poll(() => editorText(page), WAIT).toContain('mutation CreateExecution');
      const created = await run(page, 'CreateExecution');
      expect(created).toContain('"status": "PENDING"');
      const id = /"id": "([0-9a-f-]{36})"/.exec(created)?.[1] ?? '';
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });

      // it was made with the key (organization acme, as the key's); and kept for the tab, as the dashboard keeps it
      const made = ok(
        await s.gql<{ executions: { edges: { node: { id: string } }[] } }>(
          LIST,
          { w: 'graphiql-example' },
          TestKeys.headers('reader'),
        ),
      );
      expect(made.executions.edges.map((e) => e.node.id)).toEqual([id]);
      expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBe(TestKeys.secret('writer'));
      expect(problems).toEqual([]);
      expect([...origins]).toEqual([s.url]); // offline: nothing from a CDN
      await page.close();
    });

    it("takes the dashboard's key and environment without asking", async () => {
      const secret = TestKeys.secret('writer');
      const { page, problems } = await open(`${s.url}/graphql`, () => {
        sessionStorage.setItem('vigil.apiKey', 'vk_test_writer');
        sessionStorage.setItem('vigil.environment', 'live');
      });
      expect(secret).toBe('vk_test_writer');
      await expect.poll(() => editorText(page), WAIT).toContain('mutation CreateExecution');
      expect(await page.getByLabel('API key').count()).toBe(0);
      const created = await run(page, 'CreateExecution');
      const id = /"id": "([0-9a-f-]{36})"/.exec(created)?.[1] ?? '';
      const inLive = ok(
        await s.gql<{ execution: { environment: string } }>(
          `query($id: ID!) { execution(id: $id) { environment } }`,
          { id },
          { ...TestKeys.headers('reader'), 'x-environment': 'live' },
        ),
      );
      expect(inLive.execution.environment).toBe('LIVE');
      expect(problems).toEqual([]);
      await page.close();
    });
  });

  describe('with auth off', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer('pglite');
    });
    afterAll(() => s?.close());

    it('asks for nothing and runs the examples', async () => {
      const { page } = await open(`${s.url}/graphql`);
      await expect.poll(() => editorText(page), WAIT).toContain('mutation CreateExecution');
      expect(await page.getByLabel('API key').count()).toBe(0);
      expect(await run(page, 'CreateExecution')).toContain('"status": "PENDING"');
      await page.close();
    });
  });
});
