import { defineConfig } from 'vitest/config';
import { unitTestFiles } from './vitest.tiers.js';

// The unit tier (see vitest.tiers.ts): no etcd, no lab, no terminal, in
// seconds. Threads start faster than forks (no test here changes the process:
// cwd, exit, env), and property tests sample a tenth of their cases
// (test/helpers/property.ts); `npm test` still runs them in full.
export default defineConfig({
  test: {
    include: unitTestFiles(),
    pool: 'threads',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    env: { KUBE_HA_ETCD_BIN: '/nonexistent/kube-ha-unit-tier/etcd', KUBE_HA_TEST_TIER: 'unit' },
  },
});
