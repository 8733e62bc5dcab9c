import { defineConfig } from 'vitest/config';

// `npm run faults`: the whole fault matrix of issue 11, one file per lab
// topology (two labs at once on two cores). Not part of `npm test`, which runs
// a fast subset (test/faults/subset.lab.test.ts).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 4 * 3600_000,
    hookTimeout: 300_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
