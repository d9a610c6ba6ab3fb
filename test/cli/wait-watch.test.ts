import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, until } from '../support/cli.js';
import { withDocuments } from '../support/documents.js';
import { createExecution, ok, record, startTestServer, type TestServer } from '../support/harness.js';
import { startProxy } from '../support/proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failed = { code: 'BOOM', message: 'it broke' };

describe('vigil wait and watch', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer('pglite', { env: { VIGIL_SWEEP_INTERVAL_MS: '200' } });
    env = { VIGIL_URL: s.url };
  });
  afterAll(() => s?.close());

  /** A running execution, and `vigil ARGS` started on it, past its first request. */
  async function started(args: (id: string) => string[], through?: string) {
    const { id } = await createExecution(s, { workflowId: 'cli-wait' });
    ok(await record(s, id, [{ statusChanged: { to: 'RUNNING' } }]));
    const run = startCli(args(id), { VIGIL_URL: through ?? s.url });
    return { id, run };
  }

  describe('wait', () => {
    it.each([
      ['COMPLETED', 0, [{ statusChanged: { to: 'COMPLETED' } }]],
      ['FAILED', 1, [{ statusChanged: { to: 'FAILED', error: failed } }]],
    ])('exits with the status of an execution that ends while it waits: %s → %i', async (to, code, events) => {
      const { id, run } = await started((id) => ['wait', id]);
      await sleep(1500); // attached and waiting
      expect(run.child.exitCode).toBeNull();
      ok(await record(s, id, events));
      expect(await run.exited).toBe(code);
      expect(run.stdout()).toContain(to);
      expect(run.stdout()).toContain(id);
    });

    it('exits 1 for CANCELLED', async () => {
      const { id, run } = await started((id) => ['wait', id]);
      await sleep(1000);
      expect((await runCli(['cancel', id], env)).code).toBe(0);
      expect(await run.exited).toBe(1);
      expect(run.stdout()).toContain('CANCELLED');
    });

    it('exits 1 for TIMED_OUT (the execution’s own deadline, set by the server)', async () => {
      const { id } = await createExecution(s, { workflowId: 'cli-deadline', timeoutSeconds: 1 });
      const r = await runCli(['wait', id, '--json'], env);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        completed: true,
        timedOut: false,
        execution: { status: 'TIMED_OUT' },
      });
    });

    it('returns at once for an execution that has already ended', async () => {
      const { id } = await createExecution(s, { workflowId: 'cli-done' });
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const r = await runCli(['wait', id, '--json'], env);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ completed: true, execution: { id, status: 'COMPLETED' } });
    });

    it('exits 2 when its own --timeout passes while the execution still runs', async () => {
      const { id, run } = await started((id) => ['wait', id, '--timeout', '1.5', '--json']);
      expect(await run.exited).toBe(2);
      expect(JSON.parse(run.stdout())).toMatchObject({
        completed: false,
        timedOut: true,
        execution: { status: 'RUNNING' },
      });
      const text = await runCli(['wait', id, '--timeout', '1'], env);
      expect(text.code).toBe(2);
      expect(text.stderr).toContain('still RUNNING after 1 s (--timeout)');
    });

    it('exits 3 for an unknown execution', async () => {
      const r = await runCli(['wait', '01a20000-0000-7000-8000-000000000000', '--timeout', '5'], env);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('not found');
    });

    it('re-attaches after the connection drops mid-wait, and re-runs nothing', async () => {
      const proxy = await startProxy(s.url);
      try {
        const { id, run } = await started((id) => ['wait', id, '--timeout', '60'], proxy.url);
        await until(() => proxy.requests().length >= 2, run); // the read, then the wait itself
        proxy.refuse(true);
        proxy.dropAll();
        await until(() => run.stderr().includes('re-attaching'), run);
        await sleep(600); // a failed re-attach or two while the network is down
        proxy.refuse(false);
        await until(() => run.stderr().includes('re-attached'), run);
        ok(await record(s, id, [{ progress: { percentage: 90 } }, { statusChanged: { to: 'COMPLETED' } }]));
        expect(await run.exited).toBe(0);
        expect(run.stdout()).toContain('COMPLETED');
        // it only read: no mutation went through the proxy, and the execution has exactly our 3 events
        expect(proxy.requests().length).toBeGreaterThanOrEqual(3);
        expect(withDocuments(proxy.sent())).toContain('waitForExecution');
        expect(withDocuments(proxy.sent())).not.toContain('mutation');
        const e = ok(
          await s.gql<{ execution: { lastSequence: number } }>(`{ execution(id: "${id}") { lastSequence } }`),
        );
        expect(e.execution.lastSequence).toBe(3);
      } finally {
        await proxy.close();
      }
    });

    it('exits 3 when the connection is gone for good before the timeout passes', async () => {
      const proxy = await startProxy(s.url);
      const { run } = await started((id) => ['wait', id, '--timeout', '3'], proxy.url);
      await until(() => proxy.requests().length >= 2, run);
      await proxy.close();
      expect(await run.exited).toBe(3);
      expect(run.stderr()).toContain('lost the connection to Vigil');
    });
  });

  describe('watch', () => {
    it('prints one line per event without a terminal and exits 0 on COMPLETED', async () => {
      const { id, run } = await started((id) => ['watch', id]);
      await until(() => run.stdout().includes('watching'), run);
      await sleep(800);
      ok(await record(s, id, [{ progress: { step: 'load', percentage: 50 } }]));
      ok(await record(s, id, [{ step: { stepId: 'load', name: 'Load', status: 'RUNNING' } }]));
      ok(await record(s, id, [{ message: { messageId: 'm1', adapter: 'kafka', status: 'INITIATED' } }]));
      ok(await record(s, id, [{ tags: { set: [{ key: 'team', value: 'data' }], remove: ['customer'] } }]));
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      expect(await run.exited).toBe(0);
      const lines = run.stdout().trim().split('\n');
      expect(lines[0]).toMatch(/^watching RUNNING\s+cli-wait/);
      expect(lines.slice(1, 7)).toEqual([
        expect.stringMatching(/#2\s+PROGRESS\s+50% load$/),
        expect.stringMatching(/#3\s+STEP\s+step Load RUNNING$/),
        expect.stringMatching(/#4\s+MESSAGE\s+message m1 INITIATED via kafka$/),
        expect.stringMatching(/#5\s+TAGS_CHANGED\s+tags team=data, removed customer$/),
        // the step still running when the execution ended is closed, before the terminal event (API.md §1)
        expect.stringMatching(/#6\s+STEP\s+step Load CANCELLED$/),
        expect.stringMatching(/#7\s+STATUS_CHANGED\s+RUNNING → COMPLETED$/),
      ]);
      expect(lines[7]).toMatch(/^COMPLETED\s+cli-wait/);
      expect(run.stdout()).not.toContain('\x1b['); // no bar, no colour codes when not on a terminal
    });

    it('streams NDJSON with --json and exits 1 on FAILED', async () => {
      const { id, run } = await started((id) => ['watch', id, '--json', '--from-start']);
      await until(() => run.stdout().includes('"sequence":1'), run);
      ok(await record(s, id, [{ statusChanged: { to: 'FAILED', error: failed } }]));
      expect(await run.exited).toBe(1);
      const lines = run
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.event?.sequence ?? 'end')).toEqual([1, 2, 'end']);
      expect(lines.at(-1).execution).toMatchObject({ id, status: 'FAILED', error: { code: 'BOOM' } });
    });

    it('exits 2 when its --timeout passes, and 0 at once for an execution that already completed', async () => {
      const { run } = await started((id) => ['watch', id, '--timeout', '1']);
      expect(await run.exited).toBe(2);
      const { id } = await createExecution(s, { workflowId: 'cli-watch-done' });
      ok(await record(s, id, [{ statusChanged: { to: 'COMPLETED' } }]));
      const r = await runCli(['watch', id], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('COMPLETED');
    });

    it('re-attaches from the last event after the connection drops, losing and repeating nothing', async () => {
      const proxy = await startProxy(s.url);
      try {
        const { id, run } = await started((id) => ['watch', id, '--json'], proxy.url);
        await until(() => proxy.requests().some((r) => r.includes('/graphql/stream')), run);
        await sleep(500);
        ok(await record(s, id, [{ progress: { percentage: 10 } }]));
        await until(() => run.stdout().includes('"sequence":2'), run);
        proxy.refuse(true);
        proxy.dropAll();
        ok(await record(s, id, [{ progress: { percentage: 20 } }, { progress: { percentage: 30 } }]));
        await sleep(700);
        proxy.refuse(false);
        await until(() => run.stdout().includes('"sequence":4'), run);
        ok(await record(s, id, [{ statusChanged: { to: 'CANCELLED' } }]));
        expect(await run.exited).toBe(1);
        const seqs = run
          .stdout()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).event?.sequence ?? 'end');
        expect(seqs).toEqual([2, 3, 4, 5, 'end']);
      } finally {
        await proxy.close();
      }
    });
  });
});
