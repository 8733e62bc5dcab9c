import { defineConfig } from 'vitest/config';
import { ownWorker, unitTestFiles } from './vitest.tiers.js';

// The unit tier (see vitest.tiers.ts): no etcd, no lab, no terminal, in
// seconds. Where its time went: every file in a fresh worker imported the
// Compute client, Ink and React again (about half of its CPU), and property
// tests ran thousands of cases. So: threads, which share their module cache
// from file to file (isolate: false; no unit test mocks modules, and the ones
// that fake timers restore them), except the few files that touch the require
// cache (ownWorker); and property tests sample a tenth of their cases
// (test/helpers/property.ts). `npm test` runs every file isolated, in full.
const files = unitTestFiles();

export default defineConfig({
  test: {
    pool: 'threads',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    env: { KUBE_HA_ETCD_BIN: '/nonexistent/kube-ha-unit-tier/etcd', KUBE_HA_TEST_TIER: 'unit' },
    projects: [
      { extends: true, test: { name: 'unit', include: files.filter((f) => !ownWorker(f)), isolate: false } },
      { extends: true, test: { name: 'unit-own-worker', include: files.filter(ownWorker), isolate: true } },
    ],
  },
});
