/**
 * Commit → receipt latencies, measured in one client process that both writes (as another instance, through the
 * domain core, timestamping just before COMMIT) and receives (over HTTP from the Vigil process under test).
 *   --mode delivery|fanout|wake|herd  --n samples/events (after n/10, at least 3, not counted)  --k receivers
 */

import { recordEvents } from '../../src/domain/record.js';
import { updateStatusByClient } from '../../src/domain/transitions.js';
import { argv, createExecutions, now, openWriter, percentile, report, round, sse, wait } from './common.js';

const base = argv('base', 'http://127.0.0.1:4000');
const databaseUrl = argv('db', '');
const mode = argv('mode', 'delivery');
const n = Number(argv('n', '200'));
const k = Number(argv('k', '1'));
/** Rounds run first and not counted, so the figures are of a warm process (JIT-compiled paths), as in production. */
const warm = Math.max(3, Math.round(n / 10));
const writer = await openWriter(databaseUrl);
const SUB = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 600) { sequence } }';

async function streams(): Promise<number[]> {
  const [id] = await createExecutions(base, 1);
  if (!id) throw new Error('no execution');
  const arrivals = new Map<number, number[]>();
  // Woken by the last receipt, not by polling: a spinning loop here would take a core from the server under test.
  let complete: ((seq: number) => void) | null = null;
  const handles = Array.from({ length: k }, () =>
    sse(base, SUB, { id }, (data, at) => {
      const seq = (JSON.parse(data) as { data: { executionEvents: { sequence: number } } }).data.executionEvents
        .sequence;
      const list = arrivals.get(seq) ?? [];
      list.push(at);
      arrivals.set(seq, list);
      if (list.length >= k) complete?.(seq);
    }),
  );
  await Promise.all(handles.map((h) => h.opened));
  await new Promise((r) => setTimeout(r, 200));
  const latencies: number[] = [];
  for (let seq = 1; seq <= warm + n; seq++) {
    await recordEvents(writer.ctx, writer.principal, id, [{ progress: { percentage: seq % 100 } }]);
    const t0 = writer.lastCommit();
    if ((arrivals.get(seq)?.length ?? 0) < k) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        complete = (done) => {
          if (done !== seq) return;
          clearTimeout(timer);
          resolve();
        };
      });
      complete = null;
    }
    const got = arrivals.get(seq) ?? [];
    if (got.length < k) throw new Error(`event ${seq}: ${got.length}/${k} receipts within 5 s`);
    if (seq > warm) for (const at of got) latencies.push(at - t0);
    arrivals.delete(seq);
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const h of handles) h.close();
  return latencies;
}

/**
 * Until the server holds all k waits (its open-waiters gauge), then a moment for the last to attach after their first
 * read: the figure is for waking held waiters, not for accepting connections still arriving.
 */
async function held(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (Number(/^vigil_open_waiters (\d+)/m.exec(text)?.[1] ?? 0) >= count) break;
    if (Date.now() > deadline) throw new Error(`the server did not hold ${count} waiters within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, count > 100 ? 100 : 30));
}

async function waits(): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const [id] = await createExecutions(base, 1);
    if (!id) throw new Error('no execution');
    const answers = Array.from({ length: k }, () => wait(base, id, 60));
    await held(k);
    await updateStatusByClient(writer.ctx, writer.principal, id, 'CANCELLED');
    const t0 = writer.lastCommit();
    const arrived = await Promise.all(answers);
    if (i >= warm) for (const at of arrived) latencies.push(at - t0);
  }
  return latencies;
}

const started = now();
const latencies = mode === 'delivery' || mode === 'fanout' ? await streams() : await waits();
report({
  mode,
  samples: latencies.length,
  p50_ms: round(percentile(latencies, 50), 3),
  p99_ms: round(percentile(latencies, 99), 3),
  max_ms: round(Math.max(...latencies), 3),
  seconds: round((now() - started) / 1000),
});
await writer.close();
process.exit(0);
