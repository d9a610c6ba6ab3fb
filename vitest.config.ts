import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { isKnownDriverFault } from './src/db/faults.js';

const require = createRequire(import.meta.url);

export default defineConfig({
  // graphql 16 ships CJS (main) and ESM (module). Node, and so every dependency, loads the CJS copy; without this
  // alias vite would give our own files the ESM copy, and the two realms do not mix ("another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    // postgres.js's faults with no caller when a connection closes (porsager/postgres#1208, #1192), which the outage
    // tests provoke: the server survives them (src/main.ts); any other unhandled error still fails the run.
    onUnhandledError: (error) => !isKnownDriverFault(error),
  },
});
