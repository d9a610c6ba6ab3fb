#!/usr/bin/env node
// The `vigil` command (package bin): the compiled CLI in dist/ (built by `npm ci`, through `prepare`, or by
// `npm run build`). Each command imports what it needs when it runs, so `--help` loads almost nothing.
try {
  await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
  process.stderr.write('vigil: the CLI is not built; run `npm ci` or `npm run build` in the Vigil checkout\n');
  process.exitCode = 3;
}
