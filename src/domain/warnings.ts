// Each check is a small function returning the warnings a person should read.
// Severity 'error' means the control plane is degraded now (status exits 5);
// 'warning' means a topology or hygiene risk.
import { etcdMemberWarnings } from './etcd-warnings.js';
import { sortWarnings } from './format.js';
import { regionOfZone } from './names.js';
import { survivesZoneLoss } from './quorum.js';
import type {
  ApiserverIPView,
  ClusterHealth,
  EtcdClusterName,
  GceObservation,
  LoadBalancerView,
  ReplicaView,
  Warning,
} from './types.js';
import { ETCD_CLUSTERS, isGceVmStatus } from './types.js';

export interface WarningInput {
  region: string | null;
  replicas: ReplicaView[];
  etcd: Record<EtcdClusterName, ClusterHealth>;
  gce: GceObservation | null;
  gceError: string | null;
  loadBalancer: LoadBalancerView | null;
  apiserverIP: ApiserverIPView | null;
  /** The observation's time (certificate expiry is judged against it). */
  now?: Date;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function sourceWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  if (input.gceError) {
    out.push({ code: 'GCE_UNREACHABLE', severity: 'error', message: `Compute API: ${input.gceError}` });
  }
  const zones = input.gce?.unreachableZones ?? [];
  if (zones.length) {
    out.push({
      code: 'GCE_UNREACHABLE',
      severity: 'warning',
      message: `Compute API could not reach zone${zones.length > 1 ? 's' : ''} ${zones.join(', ')}: VMs there are unknown`,
    });
  }
  for (const cluster of ETCD_CLUSTERS) {
    const h = input.etcd[cluster];
    if (h.observed && h.error) {
      out.push({
        code: 'ETCD_UNREACHABLE',
        severity: 'error',
        cluster,
        message: `etcd ${cluster}: ${h.error}`,
      });
    }
  }
  return out;
}

export function quorumWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const h = input.etcd[cluster];
    if (!h.observed || h.error) continue;
    if (h.votingMembers > 0 && h.healthyVoters < h.quorum) {
      out.push({
        code: 'QUORUM_LOST',
        severity: 'error',
        cluster,
        message: `etcd ${cluster} has lost quorum: ${h.healthyVoters} of ${h.votingMembers} voters healthy, ${h.quorum} needed; kube-ha recover says whether a start or reset brings it back (console: V)`,
      });
    }
    if (h.votingMembers > 0 && h.leaderId === null) {
      out.push({ code: 'NO_LEADER', severity: 'error', cluster, message: `etcd ${cluster} has no leader` });
    }
    if (h.votingMembers === 2) {
      out.push({
        code: 'TWO_MEMBERS',
        severity: 'warning',
        cluster,
        message: `etcd ${cluster} has 2 voters: it tolerates no more failures than 1 and fails twice as often`,
      });
    } else if (h.votingMembers > 0 && h.votingMembers % 2 === 0) {
      out.push({
        code: 'EVEN_MEMBER_COUNT',
        severity: 'warning',
        cluster,
        message: `etcd ${cluster} has ${h.votingMembers} voters: an even count tolerates no more failures than ${h.votingMembers - 1}`,
      });
    }
    if (h.learners > 0) {
      out.push({
        code: 'LEARNER_PRESENT',
        severity: 'warning',
        cluster,
        message: `etcd ${cluster} has ${plural(h.learners, 'learner')} (an add is in progress or was left unfinished)`,
      });
    }
  }
  return out;
}

export function memberWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  const gceObserved = input.gce !== null;
  for (const r of input.replicas) {
    for (const cluster of ETCD_CLUSTERS) {
      const m = r.etcd[cluster];
      if (m && !m.healthy) {
        out.push({
          code: 'UNHEALTHY_MEMBER',
          severity: 'error',
          replica: r.name,
          cluster,
          message: `${r.name}: etcd ${cluster} member ${m.memberId} unhealthy: ${m.error ?? 'unknown'}`,
        });
      }
    }
    if (gceObserved && r.vm.status === 'MISSING') {
      out.push({
        code: 'MEMBER_WITHOUT_VM',
        severity: 'error',
        replica: r.name,
        message: `${r.name}: etcd member has no VM (a voter that will never come back; remove it)`,
      });
    } else if (gceObserved && r.vm.status !== 'RUNNING' && r.vm.status !== 'UNKNOWN') {
      out.push({
        code: 'VM_NOT_RUNNING',
        severity: r.etcd.main && !r.etcd.main.learner ? 'error' : 'warning',
        replica: r.name,
        message: isGceVmStatus(r.vm.status)
          ? `${r.name}: VM is ${r.vm.status}`
          : `${r.name}: VM is ${r.vm.status} (a status kube-ha does not know)`,
      });
    }
    const mainKnown = input.etcd.main.observed && !input.etcd.main.error;
    if (gceObserved && r.vm.status !== 'MISSING' && mainKnown && r.etcd.main === null) {
      out.push({
        code: 'VM_WITHOUT_MEMBER',
        severity: 'warning',
        replica: r.name,
        message: `${r.name}: VM exists but is not a member of etcd main`,
      });
    }
  }
  return out;
}

export function topologyWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  const votersPerZone = new Map<string, number>();
  for (const r of input.replicas) {
    if (input.region && r.zone && regionOfZone(r.zone) !== input.region) {
      out.push({
        code: 'REPLICA_OUTSIDE_REGION',
        severity: 'warning',
        replica: r.name,
        message: `${r.name} is in ${r.zone}, outside the cluster's region ${input.region}`,
      });
    }
    if (r.etcd.main && !r.etcd.main.learner) {
      const zone = r.zone ?? '(unknown zone)';
      votersPerZone.set(zone, (votersPerZone.get(zone) ?? 0) + 1);
    }
  }
  const voters = [...votersPerZone.values()].reduce((a, b) => a + b, 0);
  const zoneLoss = survivesZoneLoss(votersPerZone);
  if (input.gce && voters >= 3 && !zoneLoss.ok) {
    out.push({
      code: 'ZONE_CONCENTRATION',
      severity: 'warning',
      message: `losing zone ${zoneLoss.worstZone} (${votersPerZone.get(zoneLoss.worstZone ?? '')} of ${voters} voters) loses quorum`,
    });
  }
  return out;
}

export function loadBalancerWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  if (!input.gce) return out;
  const vms = input.replicas.filter((r) => r.vm.status !== 'MISSING');
  const lb = input.loadBalancer;
  const mismatch = (message: string, severity: Warning['severity'] = 'warning') =>
    out.push({ code: 'LOAD_BALANCER_MISMATCH', severity, message });
  if (vms.length >= 2 && !lb) {
    mismatch(`${vms.length} replicas but no forwarding rule holds the apiserver IP`, 'error');
  }
  if (lb) {
    const names = new Set(vms.map((r) => r.name));
    for (const i of lb.instances)
      if (!names.has(i)) mismatch(`target pool lists ${i}, which is not a replica VM`);
    for (const r of vms) {
      if (!lb.instances.includes(r.name) && r.etcd.main?.healthy && !r.etcd.main.learner) {
        mismatch(`${r.name} is healthy but not in the target pool`);
      }
    }
    if (input.apiserverIP?.address && lb.ip !== input.apiserverIP.address) {
      mismatch(
        `forwarding rule holds ${lb.ip}, not the static apiserver IP ${input.apiserverIP.address}`,
        'error',
      );
    }
  }
  if (vms.length === 1 && !lb && input.apiserverIP && input.apiserverIP.attachedTo === null) {
    mismatch('the static apiserver IP is attached to nothing', 'error');
  }
  return out;
}

export function allWarnings(input: WarningInput): Warning[] {
  return sortWarnings([
    ...sourceWarnings(input),
    ...quorumWarnings(input),
    ...memberWarnings(input),
    ...topologyWarnings(input),
    ...loadBalancerWarnings(input),
    ...etcdMemberWarnings({
      replicas: input.replicas,
      alarms: { main: input.etcd.main.alarms ?? [], events: input.etcd.events.alarms ?? [] },
      now: input.now ?? new Date(),
    }),
  ]);
}
