// Which replica a request is about, and the health facts the checks and the
// planner share. Pure.
import type { ClusterStatus, MemberView, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { OpRequest } from './request.js';

/** A replica is healthy when its VM runs and it is a healthy voter in main and events. */
export function replicaHealthy(r: ReplicaView): boolean {
  const vmOk = r.vm.status === 'RUNNING' || r.vm.status === 'UNKNOWN';
  return vmOk && ETCD_CLUSTERS.every((c) => isHealthyVoter(r.etcd[c]));
}

export function isHealthyVoter(m: MemberView | null): boolean {
  return Boolean(m?.healthy && !m.learner);
}

export function isVoter(m: MemberView | null): m is MemberView {
  return m !== null && !m.learner;
}

/** Why a replica is unhealthy, in words (empty when it is healthy). */
export function unhealthyReasons(r: ReplicaView): string[] {
  const out: string[] = [];
  if (r.vm.status === 'MISSING') out.push('its VM is missing');
  else if (r.vm.status !== 'RUNNING' && r.vm.status !== 'UNKNOWN') out.push(`its VM is ${r.vm.status}`);
  for (const c of ETCD_CLUSTERS) {
    const m = r.etcd[c];
    if (!m) out.push(`it has no etcd ${c} member`);
    else if (!m.healthy) out.push(`etcd ${c}: ${m.error ?? 'unhealthy'}`);
    else if (m.learner) out.push(`etcd ${c}: still a learner`);
  }
  return out;
}

export type Resolved = { ok: true; replica: ReplicaView } | { ok: false; reason: string };

/**
 * The replica a remove or replace is about. By zone (kube-down's
 * KUBE_GCE_ZONE without KUBE_REPLICA_NAME) an unhealthy one is preferred,
 * then one that leads nothing, then the first by name: the cheapest to lose.
 */
export function resolveReplica(status: ClusterStatus, request: OpRequest): Resolved {
  if (request.kind === 'add') return { ok: false, reason: 'an add is not about an existing replica' };
  if (request.kind === 'defrag')
    return { ok: false, reason: 'a defrag is about every member, not one replica' };
  const name = request.kind === 'replace' ? request.replica : request.replica;
  if (name) {
    const r = status.replicas.find((x) => x.name === name);
    if (r) return { ok: true, replica: r };
    const known = status.replicas.map((x) => x.name).join(', ') || 'none';
    return { ok: false, reason: `no replica named ${name} (replicas: ${known})` };
  }
  const zone = request.kind === 'remove' ? request.zone : null;
  const inZone = status.replicas.filter((x) => x.zone === zone);
  if (inZone.length === 0) {
    const zones = [...new Set(status.replicas.map((x) => x.zone).filter(Boolean))].join(', ') || 'none';
    return { ok: false, reason: `no replica in zone ${zone} (zones with replicas: ${zones})` };
  }
  const leads = (r: ReplicaView) => ETCD_CLUSTERS.some((c) => r.etcd[c]?.leader);
  const rank = (r: ReplicaView) => (replicaHealthy(r) ? 2 : 0) + (leads(r) ? 1 : 0);
  const best = [...inZone].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))[0]!;
  return { ok: true, replica: best };
}
