/**
 * Makes postgres.js hand out the idle connection used last (LIFO), as node-postgres' pool and PgBouncer do by
 * default. postgres.js 3.4.9 hands out the one idle longest (`open.shift()`), so a server with 20 pooled connections
 * sends each of a client's sequential requests to another PostgreSQL backend, each woken from sleep with cold caches:
 * 0.35–0.5 ms more per statement at the median on this machine's durable PostgreSQL (`npm run bench`, wake; README,
 * Performance). Under load every connection is busy and the order does not matter.
 *
 * postgres.js has no option for this, so `npm install` (postinstall) edits its three builds (src: import, cjs:
 * require, cf: workerd): the queue gains `pop()`, and the two places that take an idle connection call it. A small
 * script rather than patch-package: that tool brings 57 packages for two lines. If the text is not found (a new
 * postgres.js), nothing is changed and the pool stays first in, first out — slower, still correct — and
 * `test/db/workarounds.test.ts` fails, naming this script.
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
  console.warn(
    `postgres-lifo: postgres.js changed, its pool left first in, first out (not found: ${problems.join('; ')})`,
  );
