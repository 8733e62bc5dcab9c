// How many random cases a property test tries: its full count in `npm test`
// (and CI), a tenth of it (at least 100) in `npm run test:unit`, the quick loop
// run on every change (vitest.unit.config.ts sets KUBE_HA_TEST_TIER=unit). The
// same properties either way; only the unit tier samples fewer cases.
export function runs(full: number): number {
  return process.env.KUBE_HA_TEST_TIER === 'unit'
    ? Math.min(full, Math.max(100, Math.ceil(full / 10)))
    : full;
}
