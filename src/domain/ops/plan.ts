// The plan of an operation: ordered steps, each saying what it changes, how it
// is undone, and how a person would do either by hand. Pure: the same plan is
// shown by the console and the CLI before anything changes, then executed by
// src/ops and recorded step by step in the journal.
import { isIPAddress } from '../member-endpoints.js';
import { newReplicaName, urlHost } from '../names.js';
import type { ClusterStatus, EtcdClusterName, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import { buildDefragPlan } from './plan-defrag.js';
import { buildRemedyPlan, type RemedyPlan } from './plan-remedy.js';
import type { OpKind, OpRequest } from './request.js';
import { describeRequest, isRemedy } from './request.js';
import { replicaHealthy, resolveReplica } from './resolve.js';

export interface Located {
  name: string;
  zone: string;
}

/** How the new member's peer URL host is known: by name (kube-up) or by a reserved internal IP. */
export type PeerStyle = 'hostname' | 'ip';

export interface PeerURLTemplate {
  scheme: 'http' | 'https';
  port: number;
}

/** Each kind is one runner in src/ops; args carry everything it needs, no lookups by guess. */
export type StepSpec =
  /**
   * No plan has it any more (the target pool has no health check, as kube-up's):
   * kept so that an operation journalled with it can still be resumed or rolled back.
   */
  | { kind: 'lb.create-health-check'; args: { name: string; port: number; path: string } }
  /** A copy of etcd main before anything changes (events hold nothing that outlives an hour). */
  | { kind: 'etcd.snapshot'; args: { cluster: EtcdClusterName } }
  /** kube-ha defrag (plan-defrag.ts): compaction, one member's defragmentation, the alarms' disarm, the check. */
  | { kind: 'etcd.compact'; args: { cluster: EtcdClusterName } }
  | { kind: 'etcd.defrag'; args: { cluster: EtcdClusterName; replica: string; memberId: string } }
  | { kind: 'etcd.disarm'; args: { cluster: EtcdClusterName } }
  | { kind: 'etcd.verify-space'; args: { cluster: EtcdClusterName; replicas: string[] } }
  | {
      kind: 'lb.create-target-pool';
      /** healthCheck: null in every new plan; a name only in operations journalled before. */
      args: { name: string; region: string; healthCheck: string | null; instances: Located[] };
    }
  | { kind: 'lb.detach-static-ip'; args: { replica: Located; address: string; region: string } }
  | {
      kind: 'lb.create-forwarding-rule';
      args: { name: string; region: string; address: string; pool: string };
    }
  | { kind: 'lb.wait-ready'; args: { forwardingRule: string; region: string; pool: string } }
  | { kind: 'address.reserve-internal'; args: { name: string; region: string; replica: string } }
  | { kind: 'disk.create'; args: { name: string; zone: string; like: Located } }
  | {
      kind: 'etcd.add-learner';
      args: { cluster: EtcdClusterName; replica: string; peer: PeerURLTemplate; host: string | null };
    }
  | {
      kind: 'instance.insert';
      args: {
        name: string;
        zone: string;
        source: Located;
        initialCluster: string[];
        internalAddress: string | null;
      };
    }
  | { kind: 'etcd.wait-caught-up'; args: { cluster: EtcdClusterName; replica: string } }
  | { kind: 'etcd.promote'; args: { cluster: EtcdClusterName; replica: string } }
  | { kind: 'apiserver.wait-healthy'; args: { replica: string } }
  | { kind: 'lb.add-instance'; args: { pool: string; region: string; replica: Located } }
  | { kind: 'etcd.move-leader'; args: { cluster: EtcdClusterName; replica: string; memberId: string } }
  | { kind: 'lb.remove-instance'; args: { pool: string; region: string; replica: Located } }
  | {
      kind: 'etcd.remove-member';
      args: { cluster: EtcdClusterName; replica: string; memberId: string; peerURLs: string[] };
    }
  | { kind: 'instance.delete'; args: { name: string; zone: string } }
  | { kind: 'disk.delete'; args: { name: string; zone: string } }
  | { kind: 'address.delete'; args: { name: string; region: string } }
  | { kind: 'lb.delete-forwarding-rule'; args: { name: string; region: string } }
  | { kind: 'lb.attach-static-ip'; args: { replica: Located; address: string; region: string } }
  | { kind: 'lb.delete-target-pool'; args: { name: string; region: string } }
  | { kind: 'lb.delete-health-check'; args: { name: string } }
  | { kind: 'verify'; args: { replicas: string[]; loadBalancer: boolean; pool: string | null } }
  /** reset / start (plan-remedy.ts): the VM's lifecycle call, waited for until RUNNING. */
  | { kind: 'instance.reset'; args: { name: string; zone: string; force: boolean } }
  | { kind: 'instance.start'; args: { name: string; zone: string } }
  /** The same member (by ID) answering again; `answers` where its cluster cannot have quorum yet. */
  | {
      kind: 'etcd.wait-member-healthy';
      args: { cluster: EtcdClusterName; replica: string; memberId: string; until: 'healthy' | 'answers' };
    };

export type StepKind = StepSpec['kind'];

export interface StepCommon {
  /** Unique in the plan, stable across a resume: `add.learner.main`. */
  id: string;
  title: string;
  /** What it changes, in words. */
  changes: string;
  /** How it is undone, in words; null when there is nothing to undo. */
  undo: string | null;
  /** The same step by hand (gcloud / etcdctl), for the call log and for finishing by hand. */
  manual: string;
  manualUndo: string | null;
  /**
   * false = a point of no return (an etcd member removed cannot be put back):
   * once it has run, a rollback first finishes forward to the next checkpoint.
   */
  reversible: boolean;
  /** The cluster is consistent after this step (end of a remove within a replace). */
  checkpoint: boolean;
}

export type PlanStep = StepCommon & StepSpec;

export interface PlanAdd extends Located {
  source: Located;
  peerStyle: PeerStyle;
  /** INITIAL_ETCD_CLUSTER of the new replica: the replicas that remain, then the new one. */
  initialCluster: string[];
}

export interface Plan {
  operationId: string;
  kind: OpKind;
  request: OpRequest;
  summary: string;
  project: string;
  region: string;
  masterName: string;
  add: PlanAdd | null;
  remove: { name: string; zone: string | null } | null;
  replicasBefore: string[];
  replicasAfter: string[];
  loadBalancer: 'create' | 'teardown' | 'keep' | 'none';
  steps: PlanStep[];
  createdAt: string;
  /** reset / start only: the replica, where the lock is held, and what the plan leaves out. */
  remedy?: RemedyPlan;
}

export interface PlanContext {
  operationId?: string;
  now?: Date;
  random?: () => number;
}

export type PlanBuild = { ok: true; plan: Plan } | { ok: false; reason: string };

/** kube-up names peers by replica name; the lab (and some installs) by IP. */
export function peerStyleOf(status: ClusterStatus): PeerStyle {
  for (const r of status.replicas) {
    for (const c of ETCD_CLUSTERS) {
      for (const u of r.etcd[c]?.peerURLs ?? []) {
        const h = urlHost(u);
        if (h && isIPAddress(h)) return 'ip';
        if (h) return 'hostname';
      }
    }
  }
  return 'hostname';
}

const DEFAULT_PEER: Record<EtcdClusterName, PeerURLTemplate> = {
  main: { scheme: 'https', port: 2380 },
  events: { scheme: 'https', port: 2381 },
};

/** Scheme and port of the new member's peer URL, as the existing members have them. */
export function peerTemplateOf(status: ClusterStatus, cluster: EtcdClusterName): PeerURLTemplate {
  for (const r of status.replicas) {
    const u = r.etcd[cluster]?.peerURLs[0];
    if (!u) continue;
    try {
      const url = new URL(u);
      const scheme = url.protocol === 'http:' ? 'http' : 'https';
      const port = Number(url.port) || DEFAULT_PEER[cluster].port;
      return { scheme, port };
    } catch {
      // an unparsable peer URL tells nothing; try the next member
    }
  }
  return DEFAULT_PEER[cluster];
}

export function peerURL(t: PeerURLTemplate, host: string): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${t.scheme}://${h}:${t.port}`;
}

export function internalAddressName(replica: string): string {
  return `${replica}-internal-ip`;
}

export function diskNameOf(replica: string): string {
  return `${replica}-pd`;
}

export function healthCheckNameOf(masterName: string): string {
  return `${masterName}-hc`;
}

export function staticAddressNameOf(masterName: string): string {
  return `${masterName}-ip`;
}

const ETCD_CLIENT_HINT: Record<EtcdClusterName, string> = {
  main: 'etcdctl --endpoints <healthy main member>',
  events: 'etcdctl --endpoints <healthy events member>',
};

interface Builder {
  status: ClusterStatus;
  project: string;
  region: string;
  master: string;
  steps: PlanStep[];
}

function push(b: Builder, step: PlanStep): void {
  b.steps.push(step);
}

const flags = (project: string) => `--project ${project}`;

/**
 * The load balancer kube-up's create-loadbalancer builds: a target pool with
 * no health check (a legacy health check can only speak plain HTTP, and
 * kube-apiserver serves HTTPS alone on 443: every member would stay
 * UNHEALTHY), so traffic goes to every RUNNING member; readiness is an HTTPS
 * request to the static IP, as kube-up's `curl -k` loop.
 */
function lbCreateSteps(b: Builder, existing: Located): void {
  const { project, region, master } = b;
  const ip = staticAddressNameOf(master);
  push(b, {
    id: 'lb.target-pool',
    kind: 'lb.create-target-pool',
    args: { name: master, region, healthCheck: null, instances: [existing] },
    title: `Create target pool ${master} holding ${existing.name}`,
    changes: `new target pool ${master} in ${region} with ${existing.name}, no health check (as kube-up: traffic goes to every RUNNING member)`,
    undo: `delete target pool ${master}`,
    manual: `gcloud compute target-pools create ${master} --region ${region} ${flags(project)} && gcloud compute target-pools add-instances ${master} --region ${region} --instances ${existing.name} --instances-zone ${existing.zone} ${flags(project)}`,
    manualUndo: `gcloud compute target-pools delete ${master} --region ${region} --quiet ${flags(project)}`,
    reversible: true,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.detach-ip',
    kind: 'lb.detach-static-ip',
    args: { replica: existing, address: ip, region },
    title: `Move ${existing.name} to an ephemeral IP`,
    changes: `${existing.name} gives up the static IP ${ip} (the apiserver IP is unreachable until the forwarding rule holds it)`,
    undo: `give ${ip} back to ${existing.name}`,
    manual: `gcloud compute instances delete-access-config ${existing.name} --zone ${existing.zone} --access-config-name "External NAT" ${flags(project)} && gcloud compute instances add-access-config ${existing.name} --zone ${existing.zone} --access-config-name "External NAT" ${flags(project)}`,
    manualUndo: `gcloud compute instances delete-access-config ${existing.name} --zone ${existing.zone} --access-config-name "External NAT" ${flags(project)} && gcloud compute instances add-access-config ${existing.name} --zone ${existing.zone} --access-config-name "External NAT" --address <address of ${ip}> ${flags(project)}`,
    reversible: true,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.forwarding-rule',
    kind: 'lb.create-forwarding-rule',
    args: { name: master, region, address: ip, pool: master },
    title: `Create forwarding rule ${master} holding ${ip}`,
    changes: `new forwarding rule ${master} (TCP 443) with the static IP ${ip}, to target pool ${master}`,
    undo: `delete forwarding rule ${master}`,
    manual: `gcloud compute forwarding-rules create ${master} --region ${region} --address ${ip} --ports 443 --target-pool ${master} ${flags(project)}`,
    manualUndo: `gcloud compute forwarding-rules delete ${master} --region ${region} --quiet ${flags(project)}`,
    reversible: true,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.wait-ready',
    kind: 'lb.wait-ready',
    args: { forwardingRule: master, region, pool: master },
    title: `Wait until the load balancer answers on ${ip}`,
    changes:
      'nothing (waits until an HTTPS request to the static IP gets any HTTP answer, certificate not verified, as kube-up)',
    undo: null,
    manual: `until curl -k -m1 -s -o /dev/null https://<address of ${ip}>; do sleep 1; done`,
    manualUndo: null,
    reversible: true,
    checkpoint: false,
  });
}

function addSteps(b: Builder, add: PlanAdd, pool: string | null): void {
  const { project, region } = b;
  const { name, zone, source } = add;
  const disk = diskNameOf(name);
  const reserved = add.peerStyle === 'ip' ? internalAddressName(name) : null;
  if (reserved) {
    push(b, {
      id: 'add.internal-ip',
      kind: 'address.reserve-internal',
      args: { name: reserved, region, replica: name },
      title: `Reserve internal IP ${reserved}`,
      changes: `new internal address ${reserved} in ${region} (peers address members by IP: the member is added before the VM exists)`,
      undo: `release internal address ${reserved}`,
      manual: `gcloud compute addresses create ${reserved} --region ${region} --subnet default ${flags(project)}`,
      manualUndo: `gcloud compute addresses delete ${reserved} --region ${region} --quiet ${flags(project)}`,
      reversible: true,
      checkpoint: false,
    });
  }
  push(b, {
    id: 'add.disk',
    kind: 'disk.create',
    args: { name: disk, zone, like: { name: diskNameOf(source.name), zone: source.zone } },
    title: `Create disk ${disk} in ${zone}`,
    changes: `new persistent disk ${disk} in ${zone}, same type and size as ${diskNameOf(source.name)}`,
    undo: `delete disk ${disk}`,
    manual: `gcloud compute disks create ${disk} --zone ${zone} --type pd-ssd ${flags(project)}`,
    manualUndo: `gcloud compute disks delete ${disk} --zone ${zone} --quiet ${flags(project)}`,
    reversible: true,
    checkpoint: false,
  });
  for (const cluster of ETCD_CLUSTERS) {
    const peer = peerTemplateOf(b.status, cluster);
    const url = peerURL(peer, reserved ? `<${reserved}>` : name);
    push(b, {
      id: `add.learner.${cluster}`,
      kind: 'etcd.add-learner',
      args: { cluster, replica: name, peer, host: reserved ? null : name },
      title: `Add ${name} to etcd ${cluster} as a learner`,
      changes: `etcd ${cluster} gains a non-voting member ${url} (quorum unchanged)`,
      undo: `remove the member ${url} from etcd ${cluster}`,
      manual: `${ETCD_CLIENT_HINT[cluster]} member add etcd-${name} --peer-urls=${url} --learner`,
      // Once promoted it votes: removing it while another member is down can cost quorum.
      manualUndo: `${ETCD_CLIENT_HINT[cluster]} member remove <ID of ${url}>  (first check every other member: ${ETCD_CLIENT_HINT[cluster]} endpoint health --cluster; with one down, removing a voter can cost quorum)`,
      reversible: true,
      checkpoint: false,
    });
  }
  push(b, {
    id: 'add.instance',
    kind: 'instance.insert',
    args: { name, zone, source, initialCluster: add.initialCluster, internalAddress: reserved },
    title: `Create VM ${name} in ${zone} (a clone of ${source.name})`,
    changes: `new VM ${name}: ${source.name}'s machine type, disks, network, tags, service account and metadata; kube-env INITIAL_ETCD_CLUSTER=${add.initialCluster.join(',')}, INITIAL_ETCD_CLUSTER_STATE=existing; waits until RUNNING`,
    undo: `delete VM ${name}`,
    manual: `gcloud compute instances create ${name} --zone ${zone} --disk name=${disk},device-name=master-pd ... (copy ${source.name}'s settings, rewrite kube-env) ${flags(project)}`,
    manualUndo: `gcloud compute instances delete ${name} --zone ${zone} --quiet ${flags(project)}`,
    reversible: true,
    checkpoint: false,
  });
  for (const cluster of ETCD_CLUSTERS) {
    push(b, {
      id: `add.catch-up.${cluster}`,
      kind: 'etcd.wait-caught-up',
      args: { cluster, replica: name },
      title: `Wait for ${name} to catch up in etcd ${cluster}`,
      changes: "nothing (waits until the learner's applied index reaches the leader's)",
      undo: null,
      manual: `${ETCD_CLIENT_HINT[cluster]} endpoint status --cluster -w table`,
      manualUndo: null,
      reversible: true,
      checkpoint: false,
    });
  }
  for (const cluster of ETCD_CLUSTERS) {
    push(b, {
      id: `add.promote.${cluster}`,
      kind: 'etcd.promote',
      args: { cluster, replica: name },
      title: `Promote ${name} to a voter in etcd ${cluster}`,
      changes: `etcd ${cluster} gains a voter: quorum is counted over one more member`,
      undo: `nothing by itself (undoing the learner step removes the member, voter or not)`,
      manual: `${ETCD_CLIENT_HINT[cluster]} member promote <ID of etcd-${name}>`,
      manualUndo: null,
      reversible: true,
      checkpoint: false,
    });
  }
  push(b, {
    id: 'add.apiserver',
    kind: 'apiserver.wait-healthy',
    args: { replica: name },
    title: `Wait for ${name}'s apiserver to be healthy`,
    changes: 'nothing (skipped with a note where no apiserver health endpoint exists)',
    undo: null,
    manual: `curl -k https://<${name} IP>/healthz`,
    manualUndo: null,
    reversible: true,
    checkpoint: false,
  });
  if (pool) {
    push(b, {
      id: 'add.pool',
      kind: 'lb.add-instance',
      args: { pool, region, replica: { name, zone } },
      title: `Add ${name} to target pool ${pool}`,
      changes: `the load balancer sends apiserver traffic to ${name} too`,
      undo: `remove ${name} from target pool ${pool}`,
      manual: `gcloud compute target-pools add-instances ${pool} --region ${region} --instances ${name} --instances-zone ${zone} ${flags(project)}`,
      manualUndo: `gcloud compute target-pools remove-instances ${pool} --region ${region} --instances ${name} --instances-zone ${zone} ${flags(project)}`,
      reversible: true,
      checkpoint: false,
    });
  }
}

function removeSteps(b: Builder, r: ReplicaView, pool: string | null, ipStyle: boolean): void {
  const { project, region } = b;
  const zone = r.zone;
  for (const cluster of ETCD_CLUSTERS) {
    const m = r.etcd[cluster];
    // A dead member cannot lead; the runner checks again at run time and skips if it does not.
    if (!m || !m.healthy || m.learner) continue;
    push(b, {
      id: `remove.move-leader.${cluster}`,
      kind: 'etcd.move-leader',
      args: { cluster, replica: r.name, memberId: m.memberId },
      title: `Move etcd ${cluster} leadership off ${r.name}`,
      changes: `if ${r.name} leads etcd ${cluster}, the leader hands over to a healthy voter (a short election, no data change)`,
      undo: null,
      manual: `${ETCD_CLIENT_HINT[cluster].replace('healthy', 'leader')} move-leader <ID of another healthy voter>`,
      manualUndo: null,
      reversible: true,
      checkpoint: false,
    });
  }
  if (pool && r.inTargetPool && zone) {
    push(b, {
      id: 'remove.pool',
      kind: 'lb.remove-instance',
      args: { pool, region, replica: { name: r.name, zone } },
      title: `Remove ${r.name} from target pool ${pool}`,
      changes: `the load balancer stops sending apiserver traffic to ${r.name}`,
      undo: `add ${r.name} back to target pool ${pool}`,
      manual: `gcloud compute target-pools remove-instances ${pool} --region ${region} --instances ${r.name} --instances-zone ${zone} ${flags(project)}`,
      manualUndo: `gcloud compute target-pools add-instances ${pool} --region ${region} --instances ${r.name} --instances-zone ${zone} ${flags(project)}`,
      reversible: true,
      checkpoint: false,
    });
  }
  for (const cluster of ETCD_CLUSTERS) {
    const m = r.etcd[cluster];
    if (!m) continue;
    push(b, {
      id: `remove.member.${cluster}`,
      kind: 'etcd.remove-member',
      args: { cluster, replica: r.name, memberId: m.memberId, peerURLs: m.peerURLs },
      title: `Remove ${r.name} from etcd ${cluster}`,
      changes: `etcd ${cluster} loses member ${m.memberId} (${m.peerURLs.join(', ') || 'no peer URL'}); sent to a member healthy now`,
      undo: null,
      manual: `${ETCD_CLIENT_HINT[cluster]} member remove ${m.memberId}`,
      manualUndo: null,
      reversible: false,
      checkpoint: false,
    });
  }
  if (zone && r.vm.status !== 'MISSING') {
    push(b, {
      id: 'remove.instance',
      kind: 'instance.delete',
      args: { name: r.name, zone },
      title: `Delete VM ${r.name}`,
      changes: `VM ${r.name} in ${zone} is deleted (its boot disk with it)`,
      undo: null,
      manual: `gcloud compute instances delete ${r.name} --zone ${zone} --quiet ${flags(project)}`,
      manualUndo: null,
      reversible: false,
      checkpoint: false,
    });
  }
  if (ipStyle) {
    const addr = internalAddressName(r.name);
    push(b, {
      id: 'remove.internal-ip',
      kind: 'address.delete',
      args: { name: addr, region },
      title: `Release internal IP ${addr}`,
      changes: `internal address ${addr} is released, if it exists`,
      undo: null,
      manual: `gcloud compute addresses delete ${addr} --region ${region} --quiet ${flags(project)}`,
      manualUndo: null,
      reversible: false,
      checkpoint: false,
    });
  }
}

/**
 * The removed member's data disk goes last, after the result is verified: if
 * anything before went wrong (the new member of a replace never synced), its
 * etcd data is still there to recover from. With --keep-disk it stays until
 * `kube-ha cleanup`.
 */
function oldDiskStep(b: Builder, r: ReplicaView): void {
  if (!r.zone) return;
  const disk = diskNameOf(r.name);
  push(b, {
    id: 'remove.disk',
    kind: 'disk.delete',
    args: { name: disk, zone: r.zone },
    title: `Delete disk ${disk} (kept until now)`,
    changes: `persistent disk ${disk} (the removed member's etcd data, kept until the result was verified) is deleted, if it exists`,
    undo: null,
    manual: `gcloud compute disks delete ${disk} --zone ${r.zone} --quiet --project ${b.project}`,
    manualUndo: null,
    reversible: false,
    checkpoint: true,
  });
}

function lbTeardownSteps(b: Builder, survivor: Located): void {
  const { project, region, master } = b;
  const ip = staticAddressNameOf(master);
  const hc = healthCheckNameOf(master);
  push(b, {
    id: 'lb.delete-forwarding-rule',
    kind: 'lb.delete-forwarding-rule',
    args: { name: master, region },
    title: `Delete forwarding rule ${master}`,
    changes: `the static IP ${ip} is released by the load balancer (unreachable until ${survivor.name} holds it)`,
    undo: null,
    manual: `gcloud compute forwarding-rules delete ${master} --region ${region} --quiet ${flags(project)}`,
    manualUndo: null,
    reversible: false,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.attach-ip',
    kind: 'lb.attach-static-ip',
    args: { replica: survivor, address: ip, region },
    title: `Give the static IP ${ip} to ${survivor.name}`,
    changes: `${survivor.name} swaps its ephemeral external IP for ${ip}`,
    undo: null,
    manual: `gcloud compute instances delete-access-config ${survivor.name} --zone ${survivor.zone} --access-config-name "External NAT" ${flags(project)} && gcloud compute instances add-access-config ${survivor.name} --zone ${survivor.zone} --access-config-name "External NAT" --address <address of ${ip}> ${flags(project)}`,
    manualUndo: null,
    reversible: false,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.delete-target-pool',
    kind: 'lb.delete-target-pool',
    args: { name: master, region },
    title: `Delete target pool ${master}`,
    changes: `target pool ${master} is deleted`,
    undo: null,
    manual: `gcloud compute target-pools delete ${master} --region ${region} --quiet ${flags(project)}`,
    manualUndo: null,
    reversible: false,
    checkpoint: false,
  });
  push(b, {
    id: 'lb.delete-health-check',
    kind: 'lb.delete-health-check',
    args: { name: hc },
    title: `Delete health check ${hc} if the target pool had one`,
    changes: `health check ${hc} is deleted if target pool ${master} used it (earlier kube-ha versions created one; kube-up's pool has none)`,
    undo: null,
    manual: `gcloud compute http-health-checks delete ${hc} --quiet ${flags(project)}  # only if target pool ${master} listed it`,
    manualUndo: null,
    reversible: false,
    checkpoint: false,
  });
}

/**
 * First, a copy of etcd main: a membership change that goes wrong can cost
 * the data, and etcd's maintainers steer recovery to a snapshot restore. The
 * events cluster holds events with a one-hour TTL: not worth the wait.
 */
function snapshotStep(b: Builder): void {
  push(b, {
    id: 'snapshot.main',
    kind: 'etcd.snapshot',
    args: { cluster: 'main' },
    title: 'Save a snapshot of etcd main',
    changes:
      "nothing in the cluster: etcd main's data, from a healthy member (a follower when there is one), saved in the state dir and checked against its SHA-256",
    undo: null,
    manual: `${ETCD_CLIENT_HINT.main} snapshot save kube-ha-${b.master}-main.db`,
    manualUndo: null,
    reversible: true,
    checkpoint: false,
  });
}

function verifyStep(b: Builder, replicas: string[], lb: boolean): void {
  push(b, {
    id: 'verify',
    kind: 'verify',
    args: { replicas, loadBalancer: lb, pool: lb ? b.master : null },
    title: 'Verify the result',
    changes: `nothing (checks: ${replicas.length} healthy voters in main and events, ${lb ? 'every replica in the target pool' : 'no load balancer, the static IP on the replica'})`,
    undo: null,
    manual: 'kube-ha status',
    manualUndo: null,
    reversible: true,
    checkpoint: false,
  });
}

function markCheckpoint(b: Builder): void {
  const last = b.steps[b.steps.length - 1];
  if (last) last.checkpoint = true;
}

/** The replica whose configuration a new one copies: healthy, running, preferably not the one leaving. */
export function cloneSource(status: ClusterStatus, exclude: string | null): ReplicaView | null {
  const candidates = status.replicas.filter((r) => r.name !== exclude && r.zone && r.vm.status === 'RUNNING');
  return candidates.find(replicaHealthy) ?? null;
}

/**
 * Builds the plan for a request against an observed status. It fails only
 * when no plan can be described at all (unknown replica, no region); whether
 * the plan may run is the preflight checks' decision.
 */
export function buildPlan(status: ClusterStatus, request: OpRequest, ctx: PlanContext = {}): PlanBuild {
  if (isRemedy(request)) return buildRemedyPlan(status, request, ctx);
  if (request.kind === 'defrag') return buildDefragPlan(status, request, ctx);
  const now = ctx.now ?? new Date();
  const project = status.project;
  const region = status.region;
  const master = status.masterName;
  if (!project || !region || !master) {
    return { ok: false, reason: 'the Compute API target (project, region, master name) is not known' };
  }
  const b: Builder = { status, project, region, master, steps: [] };
  const before = status.replicas.map((r) => r.name);
  const lbExists = status.loadBalancer !== null;
  const poolName = status.loadBalancer?.targetPool ?? null;
  const ipStyle = peerStyleOf(status) === 'ip';

  let removed: ReplicaView | null = null;
  if (request.kind !== 'add') {
    const res = resolveReplica(status, request);
    if (!res.ok) return { ok: false, reason: res.reason };
    removed = res.replica;
  }
  const remaining = status.replicas.filter((r) => r !== removed);

  let add: PlanAdd | null = null;
  if (request.kind !== 'remove') {
    const zone = request.kind === 'add' ? request.zone : (request.zone ?? removed?.zone ?? null);
    if (!zone)
      return {
        ok: false,
        reason: `the zone of ${removed?.name} is not known (its VM is missing): pass --zone`,
      };
    const src = cloneSource(status, removed?.name ?? null);
    if (!src?.zone) return { ok: false, reason: 'no healthy running replica to copy the configuration from' };
    const explicit = request.kind === 'add' ? request.name : null;
    // Names of the removed replica stay taken: reusing one confuses journals, logs and etcd's history.
    const name = explicit ?? newReplicaName(master, before, ctx.random);
    const members = remaining.filter((r) => r.etcd.main && !r.etcd.main.learner).map((r) => r.name);
    add = {
      name,
      zone,
      source: { name: src.name, zone: src.zone },
      peerStyle: ipStyle ? 'ip' : 'hostname',
      initialCluster: [...members, name],
    };
  }

  const after = [...remaining.map((r) => r.name), ...(add ? [add.name] : [])];
  let loadBalancer: Plan['loadBalancer'] = lbExists ? 'keep' : 'none';

  snapshotStep(b);
  if (removed) {
    removeSteps(b, removed, poolName, ipStyle);
    const survivor = remaining[0];
    if (request.kind === 'remove' && lbExists && remaining.length === 1 && survivor?.zone) {
      lbTeardownSteps(b, { name: survivor.name, zone: survivor.zone });
      loadBalancer = 'teardown';
    }
    markCheckpoint(b);
  }
  if (add) {
    let pool = poolName;
    if (!lbExists && after.length >= 2) {
      const first = remaining.find((r) => r.zone && r.vm.status !== 'MISSING');
      if (!first?.zone) return { ok: false, reason: 'no replica VM to put behind the new load balancer' };
      lbCreateSteps(b, { name: first.name, zone: first.zone });
      pool = master;
      loadBalancer = 'create';
    }
    addSteps(b, add, pool);
  }
  verifyStep(b, after, loadBalancer === 'create' || loadBalancer === 'keep');
  markCheckpoint(b);
  const keepDisk = request.kind !== 'add' && request.keepDisk === true;
  if (removed && !keepDisk) oldDiskStep(b, removed);

  const counts = `${before.length} → ${after.length} replicas`;
  const summary =
    request.kind === 'add'
      ? `add ${add?.name} in ${add?.zone} (${counts})`
      : request.kind === 'remove'
        ? `remove ${removed?.name} (${counts})`
        : `replace ${removed?.name} with ${add?.name} in ${add?.zone}`;
  const kept =
    keepDisk && removed?.zone ? `; disk ${diskNameOf(removed.name)} kept (kube-ha cleanup deletes it)` : '';
  return {
    ok: true,
    plan: {
      operationId: ctx.operationId ?? `op-${now.getTime().toString(36)}`,
      kind: request.kind,
      request,
      summary: (summary || describeRequest(request)) + kept,
      project,
      region,
      masterName: master,
      add,
      remove: removed ? { name: removed.name, zone: removed.zone } : null,
      replicasBefore: before,
      replicasAfter: after,
      loadBalancer,
      steps: b.steps,
      createdAt: now.toISOString(),
    },
  };
}
