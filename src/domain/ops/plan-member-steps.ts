// A replica's steps in a membership change: joining (internal IP, disk, etcd
// learners, VM, catch-up, promotion, apiserver, target pool) and leaving
// (leadership moved off, out of the pool, members removed, VM deleted; its
// data disk last, once the result is verified).
import type { ClusterStatus, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import { etcdctlVia } from './manual.js';
import type { PlanAdd } from './plan.js';
import type { PlanTarget } from './plan-frame.js';
import { diskNameOf, internalAddressName, peerTemplateOf, peerURL } from './plan-names.js';
import { apiserverStep, type PlanStep, step } from './step.js';

export function addSteps(
  t: PlanTarget,
  status: ClusterStatus,
  add: PlanAdd,
  pool: string | null,
): PlanStep[] {
  const { region, g } = t;
  const { name, zone, source } = add;
  const vm = { name, zone };
  const disk = diskNameOf(name);
  const reserved = add.peerStyle === 'ip' ? internalAddressName(name) : null;
  const out: PlanStep[] = [];
  if (reserved) {
    out.push(
      step(
        'add.internal-ip',
        'address.reserve-internal',
        { name: reserved, region, replica: name },
        {
          title: `Reserve internal IP ${reserved}`,
          changes: `new internal address ${reserved} in ${region} (peers address members by IP: the member is added before the VM exists)`,
          undo: `release internal address ${reserved}`,
          manual: `gcloud compute addresses create ${reserved} --region ${region} --subnet default ${g.flags}`,
          manualUndo: g.delete('addresses', reserved, { region }),
        },
      ),
    );
  }
  out.push(
    step(
      'add.disk',
      'disk.create',
      { name: disk, zone, like: { name: diskNameOf(source.name), zone: source.zone } },
      {
        title: `Create disk ${disk} in ${zone}`,
        changes: `new persistent disk ${disk} in ${zone}, same type and size as ${diskNameOf(source.name)}`,
        undo: `delete disk ${disk}`,
        manual: `gcloud compute disks create ${disk} --zone ${zone} --type pd-ssd ${g.flags}`,
        manualUndo: g.delete('disks', disk, { zone }),
      },
    ),
  );
  for (const cluster of ETCD_CLUSTERS) {
    const peer = peerTemplateOf(status, cluster);
    const url = peerURL(peer, reserved ? `<${reserved}>` : name);
    const etcdctl = etcdctlVia(cluster);
    out.push(
      step(
        `add.learner.${cluster}`,
        'etcd.add-learner',
        { cluster, replica: name, peer, host: reserved ? null : name },
        {
          title: `Add ${name} to etcd ${cluster} as a learner`,
          changes: `etcd ${cluster} gains a non-voting member ${url} (quorum unchanged)`,
          undo: `remove the member ${url} from etcd ${cluster}`,
          manual: `${etcdctl} member add etcd-${name} --peer-urls=${url} --learner`,
          // Once promoted it votes: removing it while another member is down can cost quorum.
          manualUndo: `${etcdctl} member remove <ID of ${url}>  (first check every other member: ${etcdctl} endpoint health --cluster; with one down, removing a voter can cost quorum)`,
        },
      ),
    );
  }
  out.push(
    step(
      'add.instance',
      'instance.insert',
      { name, zone, source, initialCluster: add.initialCluster, internalAddress: reserved },
      {
        title: `Create VM ${name} in ${zone} (a clone of ${source.name})`,
        changes: `new VM ${name}: ${source.name}'s machine type, disks, network, tags, service account and metadata; kube-env INITIAL_ETCD_CLUSTER=${add.initialCluster.join(',')}, INITIAL_ETCD_CLUSTER_STATE=existing; waits until RUNNING`,
        undo: `delete VM ${name}`,
        manual: `gcloud compute instances create ${name} --zone ${zone} --disk name=${disk},device-name=master-pd ... (copy ${source.name}'s settings, rewrite kube-env) ${g.flags}`,
        manualUndo: g.delete('instances', name, { zone }),
      },
    ),
  );
  for (const cluster of ETCD_CLUSTERS) {
    out.push(
      step(
        `add.catch-up.${cluster}`,
        'etcd.wait-caught-up',
        { cluster, replica: name },
        {
          title: `Wait for ${name} to catch up in etcd ${cluster}`,
          changes: "nothing (waits until the learner's applied index reaches the leader's)",
          manual: `${etcdctlVia(cluster)} endpoint status --cluster -w table`,
        },
      ),
    );
  }
  for (const cluster of ETCD_CLUSTERS) {
    out.push(
      step(
        `add.promote.${cluster}`,
        'etcd.promote',
        { cluster, replica: name },
        {
          title: `Promote ${name} to a voter in etcd ${cluster}`,
          changes: `etcd ${cluster} gains a voter: quorum is counted over one more member`,
          undo: `nothing by itself (undoing the learner step removes the member, voter or not)`,
          manual: `${etcdctlVia(cluster)} member promote <ID of etcd-${name}>`,
        },
      ),
    );
  }
  out.push(apiserverStep('add.apiserver', name));
  if (pool) {
    out.push(
      step(
        'add.pool',
        'lb.add-instance',
        { pool, region, replica: vm },
        {
          title: `Add ${name} to target pool ${pool}`,
          changes: `the load balancer sends apiserver traffic to ${name} too`,
          undo: `remove ${name} from target pool ${pool}`,
          manual: g.poolInstances('add', pool, region, vm),
          manualUndo: g.poolInstances('remove', pool, region, vm),
        },
      ),
    );
  }
  return out;
}

/** Removed members cannot be put back: from there on a rollback finishes forward. */
export function removeSteps(
  t: PlanTarget,
  r: ReplicaView,
  pool: string | null,
  ipStyle: boolean,
): PlanStep[] {
  const { region, g } = t;
  const zone = r.zone;
  const out: PlanStep[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const m = r.etcd[cluster];
    // A dead member cannot lead; the runner checks again at run time and skips if it does not.
    if (!m || !m.healthy || m.learner) continue;
    out.push(
      step(
        `remove.move-leader.${cluster}`,
        'etcd.move-leader',
        { cluster, replica: r.name, memberId: m.memberId },
        {
          title: `Move etcd ${cluster} leadership off ${r.name}`,
          changes: `if ${r.name} leads etcd ${cluster}, the leader hands over to a healthy voter (a short election, no data change)`,
          manual: `${etcdctlVia(cluster, 'leader')} move-leader <ID of another healthy voter>`,
        },
      ),
    );
  }
  if (pool && r.inTargetPool && zone) {
    const vm = { name: r.name, zone };
    out.push(
      step(
        'remove.pool',
        'lb.remove-instance',
        { pool, region, replica: vm },
        {
          title: `Remove ${r.name} from target pool ${pool}`,
          changes: `the load balancer stops sending apiserver traffic to ${r.name}`,
          undo: `add ${r.name} back to target pool ${pool}`,
          manual: g.poolInstances('remove', pool, region, vm),
          manualUndo: g.poolInstances('add', pool, region, vm),
        },
      ),
    );
  }
  const oneWay = { reversible: false };
  for (const cluster of ETCD_CLUSTERS) {
    const m = r.etcd[cluster];
    if (!m) continue;
    out.push(
      step(
        `remove.member.${cluster}`,
        'etcd.remove-member',
        { cluster, replica: r.name, memberId: m.memberId, peerURLs: m.peerURLs },
        {
          title: `Remove ${r.name} from etcd ${cluster}`,
          changes: `etcd ${cluster} loses member ${m.memberId} (${m.peerURLs.join(', ') || 'no peer URL'}); sent to a member healthy now`,
          manual: `${etcdctlVia(cluster)} member remove ${m.memberId}`,
          ...oneWay,
        },
      ),
    );
  }
  if (zone && r.vm.status !== 'MISSING') {
    out.push(
      step(
        'remove.instance',
        'instance.delete',
        { name: r.name, zone },
        {
          title: `Delete VM ${r.name}`,
          changes: `VM ${r.name} in ${zone} is deleted (its boot disk with it)`,
          manual: g.delete('instances', r.name, { zone }),
          ...oneWay,
        },
      ),
    );
  }
  if (ipStyle) {
    const addr = internalAddressName(r.name);
    out.push(
      step(
        'remove.internal-ip',
        'address.delete',
        { name: addr, region },
        {
          title: `Release internal IP ${addr}`,
          changes: `internal address ${addr} is released, if it exists`,
          manual: g.delete('addresses', addr, { region }),
          ...oneWay,
        },
      ),
    );
  }
  return out;
}

/**
 * The removed member's data disk goes last, after the result is verified: if
 * anything before went wrong (the new member of a replace never synced), its
 * etcd data is still there to recover from. With --keep-disk it stays until
 * `kube-ha cleanup`.
 */
export function oldDiskSteps(t: PlanTarget, r: ReplicaView): PlanStep[] {
  if (!r.zone) return [];
  const disk = diskNameOf(r.name);
  return [
    step(
      'remove.disk',
      'disk.delete',
      { name: disk, zone: r.zone },
      {
        title: `Delete disk ${disk} (kept until now)`,
        changes: `persistent disk ${disk} (the removed member's etcd data, kept until the result was verified) is deleted, if it exists`,
        manual: t.g.delete('disks', disk, { zone: r.zone }),
        reversible: false,
        checkpoint: true,
      },
    ),
  ];
}
