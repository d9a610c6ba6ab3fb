import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigil, type ExecutionEvent, ExecutionStoppedError } from '../../src/client/sdk/index.js';
import { DB_KINDS, ok, startTestServer, type TestServer } from '../support/harness.js';
import { startProxy, type TcpProxy } from '../support/proxy.js';

const LOGS = `query($id: ID!) { execution(id: $id) { status lastSequence logs(first: 5000) { sequence text } } }`;
type Logs = { execution: { status: string; lastSequence: number; logs: { sequence: number; text: string }[] } };
const CANCEL = `mutation($id: ID!) { updateExecutionStatus(id: $id, status: CANCELLED) { success } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('vigil/client on %s', (kind) => {
  let s: TestServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    s = await startTestServer(kind);
    proxy = await startProxy(s.url);
  });
  afterAll(async () => {
    await proxy.close();
    await s.close();
  });
  const logsOf = async (id: string) => ok(await s.gql<Logs>(LOGS, { id })).execution;
  const batches = () => proxy.requests().filter((r) => r === 'POST /graphql').length;

  it('reads: execution, executions (a Relay page), wait, waitAll, waitAny', async () => {
    const vigil = createVigil({ url: s.url });
    const run = await vigil.startExecution({ workflowId: 'sdk-read', tags: [{ key: 'sdk', value: kind }] });
    const e = await vigil.execution(run.id);
    expect(e?.workflowId).toBe('sdk-read');
    expect(await vigil.execution('01900000-0000-7000-8000-000000000000')).toBeNull();
    const page = await vigil.executions({ tags: [{ key: 'sdk', value: kind }] }, { first: 5 });
    expect(page.edges.map((edge) => edge.node.id)).toContain(run.id);
    expect(page.pageInfo.hasNextPage).toBe(false);
    const early = await vigil.wait(run.id, { timeout: 1 });
    expect(early.completed).toBe(false);
    const waiting = vigil.waitAll([run.id], { timeout: 10 });
    const any = vigil.waitAny({ tags: [{ key: 'sdk', value: kind }] }, { timeout: 10 });
    await run.complete({ ok: true });
    const [all, first] = await Promise.all([waiting, any]);
    expect(all.completed).toBe(true);
    expect(first.executions.map((x) => x.status)).toContain('COMPLETED');
    const done = await vigil.wait(run.id);
    expect(done).toMatchObject({ completed: true, execution: { status: 'COMPLETED', output: { ok: true } } });
  });

  it('batches reports in order: 250 lines in a few requests, each report resolved once accepted', async () => {
    const vigil = createVigil({ url: proxy.url });
    const run = await vigil.startExecution({ workflowId: 'sdk-batch' });
    const before = batches();
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 250; i++) accepted.push(run.log(`line ${i}`));
    await Promise.all(accepted);
    // RUNNING went with the first lines; 250 lines at 100 a batch are 3 requests.
    expect(batches() - before).toBeLessThanOrEqual(3);
    const t0 = Date.now();
    await run.progress(50, 'half');
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(80); // sent by the timer, not at once
    await run.complete();
    const e = await logsOf(run.id);
    expect(e.logs.map((l) => l.text)).toEqual(Array.from({ length: 250 }, (_, i) => `line ${i}`));
    expect(e.status).toBe('COMPLETED');
  });

  it('retries through dropped connections without duplicating a report', async () => {
    const vigil = createVigil({ url: proxy.url });
    const run = await vigil.startExecution({ workflowId: 'sdk-drop' });
    await run.flush();
    const requests0 = batches();
    // Three answers lost after the server applied the batch (the case a batch's key exists for), then twelve drops,
    // 40–100 ms apart, while 400 lines go out 20 at a time (some cut a request before the server read it).
    proxy.cutAnswers(3);
    const dropper = (async () => {
      for (let n = 0; n < 12; n++) {
        await sleep(40 + Math.random() * 60);
        proxy.dropAll();
      }
    })();
    for (let i = 0; i < 400; i++) {
      void run.log(`n ${i}`);
      if (i % 20 === 19) await sleep(20);
    }
    await dropper;
    await run.flush();
    await run.complete();
    const e = await logsOf(run.id);
    expect(e.logs.map((l) => l.text)).toEqual(Array.from({ length: 400 }, (_, i) => `n ${i}`));
    const sequences = e.logs.map((l) => l.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    // The three lost answers were sent again: at least three requests more than the batches applied.
    expect(e.lastSequence).toBe(402); // RUNNING, 400 lines, COMPLETED
    expect(batches() - requests0).toBeGreaterThanOrEqual(3 + Math.ceil(400 / 100));
  }, 60_000);

  it('a cancelled execution aborts run.signal and refuses further reports', async () => {
    const vigil = createVigil({ url: s.url });
    const run = await vigil.startExecution({ workflowId: 'sdk-cancel' });
    await run.flush();
    ok(await s.gql(CANCEL, { id: run.id }));
    expect(run.signal.aborted).toBe(false);
    const refused = run.progress(10);
    await expect(refused).rejects.toBeInstanceOf(ExecutionStoppedError);
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toMatchObject({ executionStatus: 'CANCELLED', code: 'INVALID_STATUS_TRANSITION' });
    await expect(run.log('after')).rejects.toBeInstanceOf(ExecutionStoppedError);
    await expect(run.complete()).rejects.toBeInstanceOf(ExecutionStoppedError);
  });

  it('heartbeats keep a quiet run from INTERRUPTED, and learn of a cancel without any report', async () => {
    const vigil = createVigil({ url: s.url });
    const run = await vigil.startExecution({ workflowId: 'sdk-heartbeat', heartbeatTimeoutSeconds: 1 });
    await run.flush();
    await sleep(3500); // the sweeper acts within 2 s of a missed heartbeat
    expect((await vigil.execution(run.id))?.status).toBe('RUNNING');
    ok(await s.gql(CANCEL, { id: run.id }));
    const aborted = new Promise((resolve) => run.signal.addEventListener('abort', resolve));
    await expect(Promise.race([aborted, sleep(3000).then(() => 'no abort')])).resolves.not.toBe('no abort');
    expect(run.signal.reason).toBeInstanceOf(ExecutionStoppedError);
  });

  it('events() resumes by itself after dropped connections: every event once, in order, to the end', async () => {
    const worker = createVigil({ url: s.url });
    const run = await worker.startExecution({ workflowId: 'sdk-events' });
    await run.flush();
    const reader = createVigil({ url: proxy.url });
    const seen: ExecutionEvent[] = [];
    const reading = (async () => {
      for await (const ev of reader.events(run.id)) seen.push(ev);
    })();
    for (let i = 0; i < 60; i++) {
      await run.log(`e ${i}`);
      if (i % 10 === 5) proxy.dropAll();
    }
    await run.complete();
    await reading;
    reader.close();
    const sequences = seen.map((e) => e.sequence);
    const last = (await logsOf(run.id)).lastSequence;
    expect(sequences).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const texts = seen.flatMap((e) => (e.__typename === 'LogEvent' ? [e.text] : []));
    expect(texts).toEqual(Array.from({ length: 60 }, (_, i) => `e ${i}`));
    expect(seen.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', to: 'COMPLETED' });
  });
});
