/**
 * Two edits to postgres.js 3.4.9, made by `npm install` (postinstall) in its three builds (src: import, cjs: require,
 * cf: workerd). postgres.js has no option for either; a small script rather than patch-package, which brings 57
 * packages for a few lines. If a text is not found (a new postgres.js), nothing is changed for it, the script says
 * so, and `test/db/workarounds.test.ts` fails, naming this script.
 *
 * 1. **The idle connection used last (LIFO)**, as node-postgres' pool and PgBouncer hand out by default. postgres.js
 *    hands out the one idle longest (`open.shift()`), so a server with 20 pooled connections sends each of a client's
 *    sequential requests to another PostgreSQL backend, each woken from sleep with cold caches: 0.35–0.5 ms more per
 *    statement at the median on this machine's durable PostgreSQL (`npm run bench`, wake; README, Performance). Under
 *    load every connection is busy and the order does not matter. The queue gains `pop()`, and the two places that
 *    take an idle connection call it. Without it: slower, still correct.
 * 2. **No write to a closed socket** (https://github.com/porsager/postgres/issues/1208, #1154, #1133; fixes proposed
 *    upstream, none released). A write under 1 KB is deferred to `setImmediate`; when the connection has closed by
 *    then (its backend ended: a database restart, `pg_terminate_backend`, an idle-in-transaction timeout), or a query
 *    is sent on a reserved connection that closed, `nextWrite` calls `write` on a null socket. That throws from the
 *    immediate, where nothing can catch it, and the process exits: every held wait and stream of the server drops.
 *    Found when a Vigil stopping beside its stopping database exited so. Now the write is dropped and the connection's
 *    queries fail as CONNECTION_CLOSED, as those in flight when it closed do; and the connection forgets the write it
 *    had deferred when it closes (it kept the timer's handle, so a later write was never sent: a query that never
 *    answered).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../node_modules/postgres/', import.meta.url));
const POP = `    pop: () => {
      const out = xs.length > index ? xs.pop() : undefined
      if (index === xs.length) {
        index = 0
        xs = []
      }
      return out
    },
`;
const edits = [
  {
    file: 'queue.js',
    from: '    push: (x) => (xs.push(x), x),\n',
    to: `    push: (x) => (xs.push(x), x),\n${POP}`,
    count: 1,
  },
  { file: 'index.js', from: '? open.shift()', to: '? open.pop()', count: 1 },
  { file: 'index.js', from: 'return go(open.shift(), query)', to: 'return go(open.pop(), query)', count: 1 },
  {
    file: 'connection.js',
    from: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    to: `  function nextWrite(fn) {
    if (!socket) {
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options, socket))
      return false
    }
    const x = socket.write(chunk, fn)
`,
    count: 1,
  },
  {
    file: 'connection.js',
    from: "    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)\n",
    to: "    clearImmediate(nextWriteTimer)\n    nextWriteTimer = null\n    socket.removeListener('data', data)\n",
    count: 1,
  },
];

const problems = [];
for (const build of ['src', 'cjs/src', 'cf/src']) {
  const texts = new Map();
  for (const { file, from, to, count } of edits) {
    const path = `${root}${build}/${file}`;
    if (!existsSync(path)) continue;
    const text = texts.get(path) ?? readFileSync(path, 'utf8');
    if (text.split(to).length - 1 === count) continue; // applied already
    if (text.split(from).length - 1 !== count) {
      problems.push(`${build}/${file}: ${JSON.stringify(from)}`);
      continue;
    }
    texts.set(path, text.replace(from, to));
  }
  for (const [path, text] of texts) writeFileSync(path, text);
}
if (problems.length > 0)
  console.warn(`postgres-patches: postgres.js changed, these edits were not made (not found: ${problems.join('; ')})`);
