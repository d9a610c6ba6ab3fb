/**
 * The subscribers of the delivery and fan-out figures, in their own process: k graphql-sse subscriptions (distinct
 * connections mode) to one execution's events; prints {"ready": k} once all are open, then {"seq", "at": [...]} with
 * the monotonic receipt time at each subscriber once an event has reached all k.
 *   --base URL --id EXECUTION --k SUBSCRIBERS
 */
import { sse } from '../clients/common.js';
import { argv, commands, mono, say } from './http.js';

const base = argv('base', '');
const id = argv('id', '');
const k = Number(argv('k', '1'));
const SUB = 'subscription($id: ID!) { executionEvents(executionId: $id, timeout: 3600) { sequence } }';
const arrivals = new Map<number, number[]>();
const handles = Array.from({ length: k }, () =>
  sse(base, SUB, { id }, (data) => {
    const at = mono();
    const seq = (JSON.parse(data) as { data: { executionEvents: { sequence: number } } }).data.executionEvents.sequence;
    const list = arrivals.get(seq) ?? [];
    list.push(at);
    arrivals.set(seq, list);
    if (list.length === k) {
      arrivals.delete(seq);
      say({ seq, at: list });
    }
  }),
);
await Promise.all(handles.map((h) => h.opened));
say({ ready: k });
await commands()();
for (const h of handles) h.close();
process.exit(0);
