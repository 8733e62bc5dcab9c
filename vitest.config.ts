import { defineConfig } from 'vitest/config';

// Integration tests start real etcd clusters; the machines have 2 cores, so
// keep file-level parallelism modest and give lab-backed tests room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
