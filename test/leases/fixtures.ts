// Shared test data: the Kubernetes fixtures and the values their README documents.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LeaseSpec } from '../../src/domain/leases/types.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, name)));
}

export const V1_LEASE = 'coordination.k8s.io.v1.Lease.pb';
export const V1BETA1_LEASE = 'coordination.k8s.io.v1beta1.Lease.pb';
export const NAMESPACE_KV = 'etcd-kv.namespace-default.bin';
export const V1_LEASE_SHA256 = '388c7d21f5a5109ed47d87199ec0d09be2b2eee51748ad9b02d76f44609c4a42';

/** The fixture's spec, from its README and .yaml. */
export const FIXTURE_SPEC: LeaseSpec = {
  holderIdentity: 'holderIdentityValue',
  leaseDurationSeconds: 2,
  acquireTime: '2003-01-01T01:01:01.000003Z',
  renewTime: '2004-01-01T01:01:01.000004Z',
  leaseTransitions: 5,
  strategy: 'strategyValue',
  preferredHolder: 'preferredHolderValue',
};
