// The rebuild after permanent quorum loss (`kube-ha recover --from R`), as
// etcd's disaster-recovery guide does it: a snapshot of the chosen member, a
// one-member cluster restored from it on that member's VM (its own name and
// peer URL, kube-up's), then the other replicas replaced one at a time by the
// ordinary remove and add operations (learner first, promoted once caught up).
// Snapshot restore, not --force-new-cluster: etcd's maintainers steer people
// to the former (it starts from a verified copy, with a new cluster ID, so
// the old members cannot rejoin it by mistake). Pure.
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import type { RecoverDiagnosis } from './recover.js';

/** kube-up's layout on a master (kube-up-reference.md §3). */
const LAYOUT: Record<EtcdClusterName, { manifest: string; dataDir: string; clientPort: number }> = {
  main: { manifest: 'etcd.manifest', dataDir: 'data', clientPort: 2379 },
  events: { manifest: 'etcd-events.manifest', dataDir: 'data-events', clientPort: 4002 },
};
const PD_ETCD = '/mnt/disks/master-pd/var/etcd';

export type RecoverStep =
  | { id: string; kind: 'snapshot'; cluster: EtcdClusterName; title: string }
  | {
      id: string;
      kind: 'restore';
      cluster: EtcdClusterName;
      title: string;
      replica: string;
      zone: string;
      memberName: string;
      peerURL: string;
    }
  | { id: string; kind: 'verify'; cluster: EtcdClusterName; title: string }
  | { id: string; kind: 'remove'; title: string; replica: string }
  | { id: string; kind: 'add'; title: string; zone: string; replaces: string };

export interface RecoverPlan {
  id: string;
  from: string;
  zone: string;
  project: string;
  clusters: EtcdClusterName[];
  steps: RecoverStep[];
  /** Why remove-and-add rather than wiping the others' data and re-adding them as learners. */
  why: string[];
  createdAt: string;
}

export type RecoverPlanBuild = { ok: true; plan: RecoverPlan } | { ok: false; reason: string };

export function buildRecoverPlan(
  status: ClusterStatus,
  d: RecoverDiagnosis,
  o: { now?: Date; id?: string } = {},
): RecoverPlanBuild {
  const now = o.now ?? new Date();
  if (d.verdict !== 'permanent' || !d.from)
    return { ok: false, reason: 'a rebuild needs a permanent-loss diagnosis and --from' };
  const r = status.replicas.find((x) => x.name === d.from);
  if (!r?.zone) return { ok: false, reason: `${d.from} has no VM to restore on` };
  if (!status.project) return { ok: false, reason: 'the Compute API project is not known' };
  const steps: RecoverStep[] = [];
  for (const c of d.lost) {
    const m = r.etcd[c];
    const peerURL = m?.peerURLs[0];
    if (!m || !peerURL) return { ok: false, reason: `${r.name} has no etcd ${c} member with a peer URL` };
    steps.push({
      id: `snapshot.${c}`,
      kind: 'snapshot',
      cluster: c,
      title: `Save a verified snapshot of etcd ${c} from ${r.name}'s member ${m.memberId}`,
    });
    steps.push({
      id: `restore.${c}`,
      kind: 'restore',
      cluster: c,
      title: `Restore etcd ${c} on ${r.name} as a one-member cluster (${m.name} at ${peerURL})`,
      replica: r.name,
      zone: r.zone,
      memberName: m.name,
      peerURL,
    });
    steps.push({
      id: `verify.${c}`,
      kind: 'verify',
      cluster: c,
      title: `Verify etcd ${c} is one healthy member with the snapshot's data`,
    });
  }
  // Every other replica: its VM holds members the new cluster does not have.
  // All removed first (their VMs only: their members are not in the new
  // cluster), then the adds, each verifying the whole cluster.
  const others = status.replicas.filter((x) => x !== r && x.vm.status !== 'MISSING' && x.zone);
  for (const x of others)
    steps.push({
      id: `remove.${x.name}`,
      kind: 'remove',
      title: `Remove ${x.name} (kube-ha remove --replica ${x.name} --keep-disk: its VM; its data disk is kept)`,
      replica: x.name,
    });
  for (const x of others)
    steps.push({
      id: `add.${x.name}`,
      kind: 'add',
      title: `Add a replica in ${x.zone} in ${x.name}'s place (kube-ha add --zone ${x.zone}: learner first)`,
      zone: x.zone!,
      replaces: x.name,
    });
  return {
    ok: true,
    plan: {
      id: o.id ?? `recover-${now.getTime().toString(36)}`,
      from: r.name,
      zone: r.zone,
      project: status.project,
      clusters: d.lost,
      steps,
      why: [
        "snapshot restore, not --force-new-cluster: etcd's maintainers prefer it (a verified copy, a new cluster ID the old members cannot rejoin by mistake)",
        'the other replicas are removed and added back (new VMs in the same zones) rather than wiped and re-added on their VMs: both are tested kube-ha operations (learner first, one at a time, journalled), nothing has to run on their VMs, and their old data disks are kept for kube-ha cleanup',
      ],
      createdAt: now.toISOString(),
    },
  };
}

/** The on-VM steps of a restore on a kube-up master, as commands an operator runs over gcloud compute ssh. */
export function restoreCommands(
  plan: Pick<RecoverPlan, 'project'>,
  step: Extract<RecoverStep, { kind: 'restore' }>,
  snapshotFile: string,
  stamp: string,
): string[] {
  const l = LAYOUT[step.cluster];
  const ssh = `gcloud compute ssh ${step.replica} --zone ${step.zone} --project ${plan.project} --`;
  const remote = `/tmp/kube-ha-restore-${step.cluster}.db`;
  return [
    `gcloud compute scp ${snapshotFile} ${step.replica}:${remote} --zone ${step.zone} --project ${plan.project}`,
    `${ssh} sudo mv /etc/kubernetes/manifests/${l.manifest} /etc/kubernetes/${l.manifest}.kube-ha-recover`,
    `${ssh} 'while sudo ss -ltn | grep -q ":${l.clientPort} "; do sleep 1; done'`,
    `${ssh} sudo mv ${PD_ETCD}/${l.dataDir} ${PD_ETCD}/${l.dataDir}.before-restore-${stamp}`,
    `${ssh} sudo docker run --rm -v ${PD_ETCD}:/var/etcd -v ${remote}:${remote}:ro registry.k8s.io/etcd:3.6.6-0 etcdutl snapshot restore ${remote} --name ${step.memberName} --initial-cluster ${step.memberName}=${step.peerURL} --initial-advertise-peer-urls ${step.peerURL} --data-dir /var/etcd/${l.dataDir}`,
    `${ssh} sudo chown -R 2006:2006 ${PD_ETCD}/${l.dataDir}`,
    `${ssh} sudo mv /etc/kubernetes/${l.manifest}.kube-ha-recover /etc/kubernetes/manifests/${l.manifest}`,
  ];
}
