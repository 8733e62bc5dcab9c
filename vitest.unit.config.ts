import { defineConfig } from 'vitest/config';
import { unitTestFiles } from './vitest.tiers.js';

// The unit tier (see vitest.tiers.ts): no etcd, no lab, no terminal.
export default defineConfig({
  test: {
    include: unitTestFiles(),
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    env: { KUBE_HA_ETCD_BIN: '/nonexistent/kube-ha-unit-tier/etcd' },
  },
});
