/**
 * The held connections of the memory figures, in their own process: creates the executions, opens and closes 100
 * connections of the kind (the warm-up), prints {"warmed": true}; on `hold` opens N and prints {"ready", "failed"};
 * on `release` closes them and exits.
 *   --base URL --kind sse|wait --n N --rest true|false (waits: half of them seed 000's REST wait)
 */
import { createExecutions, sse } from '../clients/common.js';
import { argv, commands, post, say } from './http.js';

const base = argv('base', '');
const kind = argv('kind', 'sse');
const n = Number(argv('n', '1000'));
const rest = argv('rest', 'false') === 'true';
const ids = await createExecutions(base, 1000, `user-hold-${kind}`);
/** Connections that ended (a wait answered, a stream closed) before the release: each is a failure. */
let early = 0;
const SUB = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 3600) { sequence } }';
const WAIT = 'query($id: ID!) { waitForExecution(id: $id, timeout: 3600) { completed } }';

/** Opens one connection; resolves once the server has it (SSE: headers; wait: a moment after the request went). */
async function open(i: number, closers: (() => void)[]): Promise<void> {
  const id = ids[i % ids.length] as string;
  if (kind === 'sse') {
    const h = sse(
      base,
      SUB,
      { id },
      () => {},
      () => early++,
    );
    closers.push(h.close);
    return h.opened;
  }
  const h =
    rest && i % 2 === 1
      ? post(base, `/api/v1/executions/${id}/wait`, JSON.stringify({ timeout: 3600 }))
      : post(base, '/graphql', JSON.stringify({ query: WAIT, variables: { id } }));
  closers.push(h.close);
  // Answered or reset before the release: either way not held (the warm-up's own closes are reset below).
  h.answer.then(
    () => early++,
    () => early++,
  );
  // A wait answers only at the end: an early answer or close is a failure.
  await Promise.race([
    h.answer.then((a) => Promise.reject(new Error(a.text.slice(0, 200)))),
    new Promise((r) => setTimeout(r, 50)),
  ]);
}

async function openAll(count: number, closers: (() => void)[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < count; i += 200) {
    // A connect refused under load is retried twice (a held connection, not the accept queue, is what is measured).
    const batch = Array.from({ length: Math.min(200, count - i) }, (_, j) =>
      open(i + j, closers)
        .catch(() => open(i + j, closers))
        .catch(() => open(i + j, closers))
        .catch(() => failed++),
    );
    await Promise.all(batch);
  }
  return failed;
}

const warm: (() => void)[] = [];
await openAll(100, warm);
await new Promise((r) => setTimeout(r, 500));
for (const close of warm) close();
await new Promise((r) => setTimeout(r, 200));
early = 0;
say({ warmed: true });
const next = commands();
await next();
const closers: (() => void)[] = [];
const failed = await openAll(n, closers);
say({ ready: n - failed, failed });
await next();
say({ early });
for (const close of closers) close();
process.exit(0);
