// The pure model: observations in, one ClusterStatus out.
import { sortWarnings } from './format.js';
import { clusterLeader, joinReplicas } from './join.js';
import { holderHealth, leaseExpiresAt } from './leases/holder-health.js';
import { buildLeaseViews } from './leases/view.js';
import { alarmsOf, type EtcdAlarm } from './member-health.js';
import { regionOfZone, urlHost } from './names.js';
import { faultTolerance, quorumOf } from './quorum.js';
import type {
  ApiserverHealth,
  ApiserverIPView,
  ApiserverProbe,
  ClusterHealth,
  ClusterStatus,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  LeaseObservation,
  LeaseStatus,
  LoadBalancerView,
  ReplicaView,
  Warning,
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
  /** Leader records read once from etcd main (absent: not read, and `leases` stays out of the status). */
  leases?: LeaseObservation | null;
  /** kube-apiserver /readyz probes, by host: the replicas' and the load balancer's IP (absent: not probed). */
  apiservers?: ApiserverProbe[] | null;
  /** targetPools.getHealth by instance name, for a pool with a health check (absent: not asked). */
  poolHealth?: Record<string, string> | null;
  now?: Date;
}

/**
 * The host whose kube-apiserver serves a replica: its VM's internal IP, or,
 * when GCE is not observed, the host where its etcd member answered (the
 * apiserver runs next to its etcd member; the advertised client URL is
 * 127.0.0.1 on kube-up's members). null: nothing to probe.
 */
export function apiserverHostOf(r: ReplicaView, gceObserved: boolean): string | null {
  if (gceObserved) return r.vm.status === 'MISSING' ? null : r.vm.internalIP;
  const url = r.etcd.main?.endpoint ?? r.etcd.events?.endpoint;
  return url ? urlHost(url) : null;
}

/** A probe as the model shows it: ready, alive but not ready, or not answering. */
export function apiserverHealth(p: ApiserverProbe): ApiserverHealth {
  return {
    healthy: p.healthy,
    error: p.error,
    url: p.url,
    state: p.healthy ? 'ready' : p.answered ? 'not-ready' : 'not-answering',
    failedChecks: p.failedChecks ?? [],
  };
}

function apiserverWarnings(replicas: ReplicaView[], gceObserved: boolean): Warning[] {
  const out: Warning[] = [];
  for (const r of replicas) {
    const a = r.apiserver;
    if (!a || a.healthy) continue;
    // A stopped VM has its own warning; its apiserver being down says nothing more.
    if (gceObserved && r.vm.status !== 'RUNNING') continue;
    const answered = a.state === 'not-ready';
    out.push({
      code: 'APISERVER_UNHEALTHY',
      // Without GCE the address is a guess from etcd's client URL: nothing answering there may just be the wrong host.
      severity: gceObserved || answered ? 'error' : 'warning',
      replica: r.name,
      // What happened first, the URL last: a narrow screen cuts the end.
      message: `${r.name}: apiserver ${answered ? 'not ready' : 'not answering'}${gceObserved ? ' while its VM is RUNNING' : ''}: ${a.error ?? 'unknown'} (${a.url})`,
    });
  }
  return out;
}

/**
 * A target pool without a health check (kube-up creates none) sends every
 * RUNNING member its share of connections: said when a member's apiserver is
 * down, since that share then fails. Always shown beside the load balancer.
 */
function poolHealthCheckWarnings(replicas: ReplicaView[], lb: LoadBalancerView | null): Warning[] {
  if (!lb?.targetPool || (lb.healthChecks?.length ?? 0) > 0) return [];
  const members = replicas.filter((r) => lb.instances.includes(r.name));
  const down = members.filter((r) => r.vm.status === 'RUNNING' && r.apiserver && !r.apiserver.healthy);
  if (down.length === 0) return [];
  const names = down.map((r) => r.name).join(', ');
  return [
    {
      code: 'LOAD_BALANCER_NO_HEALTH_CHECK',
      severity: 'warning',
      message: `target pool ${lb.targetPool} has no health check: ${names}'s apiserver ${down.length === 1 ? 'is' : 'are'} down but still ${down.length === 1 ? 'gets' : 'get'} ${down.length}/${members.length} of the traffic (connections there fail)`,
    },
  ];
}

function leaseStatus(
  obs: LeaseObservation,
  replicas: ReplicaView[],
  now: Date,
): { leases: LeaseStatus[]; warnings: Warning[] } {
  if (obs.components === null) return { leases: [], warnings: [] };
  const knownReplicas = replicas.map((r) => r.name);
  const built = buildLeaseViews(obs.components, { knownReplicas, now: obs.readAt ?? now.getTime() });
  const watched = obs.components.some((c) => c.lease?.watch || c.endpoints?.watch || c.configmap?.watch);
  const byName = new Map(replicas.map((r) => [r.name, r]));
  return {
    leases: built.leases.map((v): LeaseStatus => {
      const holding = v.state === 'held' || v.state === 'stale';
      const h = holding ? holderHealth(v.holderReplica === null ? null : byName.get(v.holderReplica)) : null;
      const l: LeaseStatus = {
        ...v,
        judgedBy: watched ? 'watch' : 'clock',
        holderHealthy: h?.holderHealthy ?? null,
        expiresAt: holding ? leaseExpiresAt(v.renewTime, v.leaseDurationSeconds) : null,
      };
      if (h?.down) l.holderDown = h.down;
      return l;
    }),
    warnings: built.warnings,
  };
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
    alarms: clusterAlarms(obs),
  };
}

/** The cluster's alarms (each with the member that raised it), as its answering members list them. */
function clusterAlarms(obs: EtcdObservation | null): EtcdAlarm[] {
  const seen = new Map<string, EtcdAlarm>();
  for (const s of obs?.statuses ?? []) {
    if (s.ok) for (const a of alarmsOf(s.errors)) seen.set(`${a.memberId}/${a.alarm}`, a);
  }
  return [...seen.values()];
}

function loadBalancerView(
  gce: GceObservation | null,
  probes: ApiserverProbe[] | null | undefined,
): LoadBalancerView | null {
  if (!gce?.forwardingRule) return null;
  const view: LoadBalancerView = {
    forwardingRule: gce.forwardingRule.name,
    ip: gce.forwardingRule.ip,
    targetPool: gce.targetPool?.name ?? null,
    instances: gce.targetPool?.instances ?? [],
    healthChecks: gce.targetPool?.healthChecks ?? [],
  };
  if (probes) {
    const p = probes.find((x) => x.host === view.ip);
    view.apiserver = p ? apiserverHealth(p) : null;
  }
  return view;
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
    unreachableZones: gce?.unreachableZones ?? [],
    targetPoolInstances: gce?.targetPool?.instances ?? [],
    etcd: obs.etcd,
    leaders,
  });
  const probes = obs.apiservers;
  if (probes) {
    for (const r of replicas) {
      const host = apiserverHostOf(r, gce !== null);
      const p = host === null ? undefined : probes.find((x) => x.host === host);
      r.apiserver = p ? apiserverHealth(p) : null;
    }
  }
  if (obs.poolHealth)
    for (const r of replicas) r.poolHealth = r.inTargetPool ? (obs.poolHealth[r.name] ?? null) : null;
  const etcd = {
    main: clusterHealth('main', obs.etcd.main, replicas, leaders.main),
    events: clusterHealth('events', obs.etcd.events, replicas, leaders.events),
  };
  const firstZone = replicas.find((r) => r.zone)?.zone;
  const region = obs.region ?? gce?.region ?? (firstZone ? regionOfZone(firstZone) : null);
  const loadBalancer = loadBalancerView(gce, probes);
  const apiserverIP = apiserverIPView(gce);
  const now = obs.now ?? new Date();
  const leases = obs.leases ? leaseStatus(obs.leases, replicas, now) : null;
  const warnings = sortWarnings([
    ...allWarnings({
      region,
      replicas,
      etcd,
      gce,
      gceError: obs.gceError,
      loadBalancer,
      apiserverIP,
      now,
    }),
    ...(probes ? apiserverWarnings(replicas, gce !== null) : []),
    ...(probes ? poolHealthCheckWarnings(replicas, loadBalancer) : []),
    ...(leases?.warnings ?? []),
  ]);
  const status: ClusterStatus = {
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
    observedAt: now.toISOString(),
  };
  if (leases && obs.leases) {
    status.leases = leases.leases;
    status.leasesError = obs.leases.error;
    status.leasesReadAt = new Date(obs.leases.readAt ?? now.getTime()).toISOString();
  }
  return status;
}

/** status exit code: 0 healthy, 5 degraded (any error-severity warning). */
export function statusExitCode(status: ClusterStatus): 0 | 5 {
  return status.warnings.some((w) => w.severity === 'error') ? 5 : 0;
}
