// The pure model: observations in, one ClusterStatus out.
import { clusterLeader, joinReplicas } from './join.js';
import { regionOfZone } from './names.js';
import { faultTolerance, quorumOf } from './quorum.js';
import type {
  ApiserverIPView,
  ClusterHealth,
  ClusterStatus,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  LoadBalancerView,
  ReplicaView,
} from './types.js';
import { ETCD_CLUSTERS } from './types.js';
import { allWarnings } from './warnings.js';

export interface Observations {
  project: string | null;
  region: string | null;
  masterName: string;
  /** null: GCE not configured, or the last call failed (see gceError). */
  gce: GceObservation | null;
  gceError: string | null;
  etcd: Record<EtcdClusterName, EtcdObservation | null>;
  now?: Date;
}

export function clusterHealth(
  cluster: EtcdClusterName,
  obs: EtcdObservation | null,
  replicas: ReplicaView[],
  leaderId: string | null,
): ClusterHealth {
  const members = replicas.map((r) => r.etcd[cluster]).filter((m) => m !== null);
  const voters = members.filter((m) => !m.learner);
  const healthyVoters = voters.filter((m) => m.healthy).length;
  return {
    members: members.length,
    votingMembers: voters.length,
    healthyMembers: members.filter((m) => m.healthy).length,
    healthyVoters,
    quorum: quorumOf(voters.length),
    faultTolerance: faultTolerance(voters.length, healthyVoters),
    leaderId: members.some((m) => m.leader) ? leaderId : null,
    learners: members.length - voters.length,
    observed: obs !== null,
    error: obs?.members === null ? (obs.membersError ?? 'no endpoint answered') : null,
  };
}

function loadBalancerView(gce: GceObservation | null): LoadBalancerView | null {
  if (!gce?.forwardingRule) return null;
  return {
    forwardingRule: gce.forwardingRule.name,
    ip: gce.forwardingRule.ip,
    targetPool: gce.targetPool?.name ?? null,
    instances: gce.targetPool?.instances ?? [],
  };
}

function apiserverIPView(gce: GceObservation | null): ApiserverIPView | null {
  if (!gce) return null;
  const address = gce.staticAddress?.address ?? null;
  if (!address) return { address: null, attachedTo: null };
  if (gce.forwardingRule?.ip === address) return { address, attachedTo: 'load-balancer' };
  const holder = gce.instances.find((i) => i.externalIP === address);
  return { address, attachedTo: holder?.name ?? null };
}

export function buildStatus(obs: Observations): ClusterStatus {
  const gce = obs.gce;
  const leaders = {
    main: clusterLeader(obs.etcd.main),
    events: clusterLeader(obs.etcd.events),
  };
  const replicas = joinReplicas({
    masterName: obs.masterName,
    instances: gce ? gce.instances : null,
    targetPoolInstances: gce?.targetPool?.instances ?? [],
    etcd: obs.etcd,
    leaders,
  });
  const etcd = {
    main: clusterHealth('main', obs.etcd.main, replicas, leaders.main),
    events: clusterHealth('events', obs.etcd.events, replicas, leaders.events),
  };
  const firstZone = replicas.find((r) => r.zone)?.zone;
  const region = obs.region ?? gce?.region ?? (firstZone ? regionOfZone(firstZone) : null);
  const loadBalancer = loadBalancerView(gce);
  const apiserverIP = apiserverIPView(gce);
  const warnings = allWarnings({
    region,
    replicas,
    etcd,
    gce,
    gceError: obs.gceError,
    loadBalancer,
    apiserverIP,
  });
  return {
    project: obs.project ?? gce?.project ?? null,
    region,
    masterName: obs.masterName,
    replicas,
    etcd,
    loadBalancer,
    apiserverIP,
    warnings,
    sources: {
      gce: gce !== null || obs.gceError !== null,
      etcd: ETCD_CLUSTERS.some((c) => obs.etcd[c] !== null),
    },
    observedAt: (obs.now ?? new Date()).toISOString(),
  };
}

/** status exit code: 0 healthy, 5 degraded (any error-severity warning). */
export function statusExitCode(status: ClusterStatus): 0 | 5 {
  return status.warnings.some((w) => w.severity === 'error') ? 5 : 0;
}
