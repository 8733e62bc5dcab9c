// What `kube-ha cleanup` may delete: data disks of replicas that are gone.
// A remove or replace deletes the old member's disk only as its last step,
// after the result is verified; a rollback, a failure before it, or
// --keep-disk leave it. Pure: the disks come from Compute, the rest from the
// observed status; every disk is either a candidate or kept with a reason.
import { isReplicaName } from '../names.js';
import type { ClusterStatus } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';

export interface DiskSeen {
  name: string;
  zone: string;
  /** Instances the disk is attached to (Compute's `users`). */
  users: string[];
  sizeGb: string | null;
  /** RFC 3339, as Compute gives it. */
  created: string | null;
}

export interface CleanupItem {
  disk: DiskSeen;
  /** The replica whose etcd data it held. */
  replica: string;
  /** Why it may go, or why it stays. */
  reason: string;
}

export interface CleanupPlan {
  delete: CleanupItem[];
  keep: CleanupItem[];
  /** Why nothing may be deleted now (then `delete` is empty). */
  refusal: string | null;
}

const PD_SUFFIX = '-pd';

/** `<replica>-pd` of one of this cluster's replica names, or null. */
export function replicaOfDisk(masterName: string, disk: string): string | null {
  if (!disk.endsWith(PD_SUFFIX)) return null;
  const replica = disk.slice(0, -PD_SUFFIX.length);
  return isReplicaName(masterName, replica) ? replica : null;
}

/**
 * Splits the disks named after this cluster's replicas: a disk goes only when
 * nothing uses it, no VM of its replica exists (a VM without its disk would
 * not boot again), and its replica is in neither etcd cluster (a member whose
 * VM is gone may still need its data to be rebuilt from).
 */
export function planCleanup(status: ClusterStatus, disks: DiskSeen[]): CleanupPlan {
  const master = status.masterName ?? '';
  const out: CleanupPlan = { delete: [], keep: [], refusal: null };
  // Without both memberships, a member whose VM is gone would look like a leftover.
  const unknown = ETCD_CLUSTERS.filter((c) => !status.etcd[c].observed || status.etcd[c].members === 0);
  if (!status.sources.gce) out.refusal = 'the Compute API did not answer: which VMs exist is not known';
  else if (unknown.length)
    out.refusal = `the membership of etcd ${unknown.join(' and ')} is not known: a disk of a member whose VM is gone could be taken for a leftover`;
  const vms = new Set(status.replicas.filter((r) => r.vm.status !== 'MISSING').map((r) => r.name));
  const members = new Set(
    status.replicas.filter((r) => ETCD_CLUSTERS.some((c) => r.etcd[c] !== null)).map((r) => r.name),
  );
  for (const disk of [...disks].sort((a, b) => a.name.localeCompare(b.name))) {
    const replica = replicaOfDisk(master, disk.name);
    if (!replica) continue;
    const item = (reason: string) => ({ disk, replica, reason });
    if (disk.users.length) out.keep.push(item(`attached to ${disk.users.map(lastSegment).join(', ')}`));
    else if (vms.has(replica)) out.keep.push(item(`VM ${replica} exists`));
    else if (members.has(replica)) out.keep.push(item(`${replica} is still an etcd member`));
    else if (out.refusal) out.keep.push(item(out.refusal));
    else out.delete.push(item(`no VM and no etcd member named ${replica}`));
  }
  return out;
}

function lastSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}
