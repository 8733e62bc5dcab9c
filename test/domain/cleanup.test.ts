// Which leftover data disks `kube-ha cleanup` may delete (issue 16 item 2):
// only a disk no VM uses, whose replica has no VM and is in neither etcd
// cluster; and nothing at all while etcd's membership is unknown.
import { describe, expect, it } from 'vitest';
import { type DiskSeen, planCleanup, replicaOfDisk } from '../../src/domain/ops/cleanup.js';
import { status, withObs } from '../ops/fixtures.js';

const disk = (name: string, users: string[] = []): DiskSeen => ({
  name,
  zone: 'us-central1-b',
  users,
  sizeGb: '20',
  created: null,
});

describe('kube-ha cleanup: what may go', () => {
  it("names only this cluster's replica disks", () => {
    expect(replicaOfDisk('kubernetes-master', 'kubernetes-master-pd')).toBe('kubernetes-master');
    expect(replicaOfDisk('kubernetes-master', 'kubernetes-master-x7k-pd')).toBe('kubernetes-master-x7k');
    expect(replicaOfDisk('kubernetes-master', 'other-master-pd')).toBeNull();
    expect(replicaOfDisk('kubernetes-master', 'kubernetes-master-x7k')).toBeNull();
    expect(replicaOfDisk('kubernetes-master', 'kubernetes-master-a-b-pd')).toBeNull();
  });

  it('deletes a disk of a replica with no VM and no member; keeps the rest, each with its reason', () => {
    const s = status(3);
    const names = s.replicas.map((r) => r.name);
    const p = planCleanup(s, [
      disk(`${names[1]}-pd`, [`projects/p/zones/us-central1-b/instances/${names[1]}`]),
      disk('kubernetes-master-old-pd'),
      disk('kubernetes-master-use-pd', ['projects/p/zones/us-central1-b/instances/some-vm']),
      disk(`${names[2]}-pd`),
      disk('unrelated-pd'),
    ]);
    expect(p.refusal).toBeNull();
    expect(p.delete.map((i) => [i.disk.name, i.reason])).toEqual([
      ['kubernetes-master-old-pd', 'no VM and no etcd member named kubernetes-master-old'],
    ]);
    expect(p.keep.map((i) => [i.disk.name, i.reason])).toEqual(
      expect.arrayContaining([
        [`${names[1]}-pd`, `attached to ${names[1]}`],
        ['kubernetes-master-use-pd', 'attached to some-vm'],
        [`${names[2]}-pd`, `VM ${names[2]} exists`],
      ]),
    );
    expect(p.keep.map((i) => i.disk.name)).not.toContain('unrelated-pd');
  });

  it('keeps the disk of a member whose VM is gone: its data may be what a rebuild needs', () => {
    const gone = status(3).replicas[2]!.name;
    const s = withObs((o) => {
      o.gce!.instances = o.gce!.instances.filter((i) => i.name !== gone);
    });
    expect(s.replicas.find((r) => r.name === gone)?.vm.status).toBe('MISSING');
    const p = planCleanup(s, [disk(`${gone}-pd`)]);
    expect(p.delete).toEqual([]);
    expect(p.keep[0]?.reason).toBe(`${gone} is still an etcd member`);
  });

  it('refuses while an etcd membership is unknown', () => {
    const s = withObs((o) => {
      o.etcd.events = null;
    });
    const p = planCleanup(s, [disk('kubernetes-master-old-pd')]);
    expect(p.refusal).toMatch(/membership of etcd events is not known/);
    expect(p.delete).toEqual([]);
    expect(p.keep.map((i) => i.disk.name)).toEqual(['kubernetes-master-old-pd']);
  });
});
