/**
 * The waiters of the wake and herd figures, in their own process. On `wait ID K` it sends K `waitForExecution`s
 * (one connection each), prints {"sent": K}, then {"at": [...]} with the monotonic time each whole answer arrived,
 * every one checked to be a 200 with `"completed":true`.
 *   --base URL
 */
import { argv, commands, post, say } from './http.js';

const base = argv('base', '');
const next = commands();
for (;;) {
  const [verb, id, k] = (await next()).split(' ');
  if (verb !== 'wait') break;
  const body = JSON.stringify({
    query: 'query($id: ID!) { waitForExecution(id: $id, timeout: 60) { completed } }',
    variables: { id },
  });
  const held = Array.from({ length: Number(k) }, () => post(base, '/graphql', body));
  say({ sent: held.length });
  try {
    const answers = await Promise.all(held.map((h) => h.answer));
    const bad = answers.find((a) => !a.text.startsWith('HTTP/1.1 200') || !a.text.includes('"completed":true'));
    if (bad) throw new Error(`unexpected answer: ${bad.text.slice(0, 300)}`);
    say({ at: answers.map((a) => a.at) });
  } catch (err) {
    say({ at: [], error: String(err) });
  }
}
process.exit(0);
