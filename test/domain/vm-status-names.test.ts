// Issue 10: every GCE instance status known, an unknown one shown as it came
// with a warning; a new replica's name refused when a resource named after it
// would exceed GCE's 63 characters.
import { describe, expect, it } from 'vitest';
import { diskNameOf, internalAddressName } from '../../src/domain/ops/plan.js';
import { parseAddRequest, parseRemoveRequest, RequestError } from '../../src/domain/ops/request.js';
import { buildStatus } from '../../src/domain/status.js';
import { GCE_VM_STATUSES, isGceVmStatus } from '../../src/domain/types.js';
import { toGceInstance } from '../../src/sources/gce-source.js';
import { gce, healthy } from '../helpers/observations.js';

describe('VM status', () => {
  it('knows every status of the Compute v1 API', () => {
    expect([...GCE_VM_STATUSES].sort()).toEqual(
      [
        'PROVISIONING',
        'STAGING',
        'RUNNING',
        'STOPPING',
        'STOPPED',
        'SUSPENDING',
        'SUSPENDED',
        'REPAIRING',
        'TERMINATED',
        'PENDING',
        'DEPROVISIONING',
      ].sort(),
    );
    expect(isGceVmStatus('DEPROVISIONING')).toBe(true);
    expect(isGceVmStatus('HIBERNATING')).toBe(false);
  });

  it('shows an unknown status as it came, with a warning that says so', () => {
    expect(toGceInstance({ name: 'x', status: 'HIBERNATING' }).status).toBe('HIBERNATING');
    const obs = healthy();
    const g = gce(3);
    g.instances = g.instances.map((i, n) =>
      n === 0 ? { ...i, status: 'HIBERNATING' } : n === 1 ? { ...i, status: 'PENDING' } : i,
    );
    const s = buildStatus({ ...obs, gce: g });
    const first = g.instances[0]!.name;
    expect(s.replicas.find((r) => r.name === first)?.vm.status).toBe('HIBERNATING');
    const notRunning = s.warnings.filter((w) => w.code === 'VM_NOT_RUNNING').map((w) => w.message);
    expect(notRunning).toEqual(
      expect.arrayContaining([
        `${first}: VM is HIBERNATING (a status kube-ha does not know)`,
        `${g.instances[1]!.name}: VM is PENDING`,
      ]),
    );
  });
});

describe("a new replica's name", () => {
  const name = (n: number) => `r${'a'.repeat(n - 1)}`;

  it('is refused before anything changes when its address or disk name would exceed 63 characters', () => {
    for (const n of [63, 52]) {
      expect(() => parseAddRequest({ zone: 'us-central1-b' }, { KUBE_REPLICA_NAME: name(n) })).toThrow(
        RequestError,
      );
    }
    expect(() => parseAddRequest({ zone: 'us-central1-b', replica: name(52) })).toThrow(
      /--replica: .* is too long: '.*-internal-ip' \(64 characters\) exceeds GCE's 63; use at most 51 characters/,
    );
    const ok = parseAddRequest({ zone: 'us-central1-b' }, { KUBE_REPLICA_NAME: name(51) });
    expect(ok.name).toBe(name(51));
    // The same names plan.ts gives the resources.
    expect(internalAddressName(name(51))).toHaveLength(63);
    expect(diskNameOf(name(51)).length).toBeLessThanOrEqual(63);
  });

  it('an existing replica with a long name can still be removed', () => {
    expect(parseRemoveRequest({ replica: name(60) }).replica).toBe(name(60));
  });
});
