// Cluster states for the console tests, built the way the console builds them:
// observations (VMs, the target pool, etcd member lists and Status answers)
// through the real buildStatus, so a fixture cannot show what status never
// produces. A healthy 3-zone control plane and the ways it breaks.
import { buildStatus, type Observations } from '../../src/domain/status.js';
import type {
  ClusterStatus,
  EtcdClusterName,
  EtcdEndpointStatus,
  EtcdObservation,
  GceInstance,
} from '../../src/domain/types.js';
import { ETCD_CLUSTERS } from '../../src/domain/types.js';

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

export const NAMES = {
  a: 'kubernetes-master',
  b: 'kubernetes-master-x7k',
  c: 'kubernetes-master-q2p',
  d: 'kubernetes-master-n3w',
} as const;

const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];
const LB_IP = '35.192.0.10';
const PORTS: Record<EtcdClusterName, [client: number, peer: number]> = {
  main: [2379, 2380],
  events: [4002, 2381],
};
const ID_BASE: Record<EtcdClusterName, bigint> = {
  main: 0x8e9e05c52164694dn,
  events: 0x2a7c41f0b3d5e8c1n,
};

/** Replica i's member ID in a cluster (16 hex digits, as etcdctl prints it). */
export function memberId(cluster: EtcdClusterName, i: number): string {
  return (ID_BASE[cluster] + BigInt(i)).toString(16);
}

const clientURL = (cluster: EtcdClusterName, i: number) => `https://10.128.0.${i + 2}:${PORTS[cluster][0]}`;

/** Replica i's VM: internal IP 10.128.0.(i+2), external 34.66.10.(i+10). */
function vm(name: string, i: number, zone: string): GceInstance {
  return {
    name,
    zone,
    status: 'RUNNING',
    internalIP: `10.128.0.${i + 2}`,
    externalIP: `34.66.10.${i + 10}`,
    metadata: {},
  };
}

/** A cluster whose members all answer, `leader` leading in term 4. */
function cluster(c: EtcdClusterName, names: string[], leader: number): EtcdObservation {
  const peer = PORTS[c][1];
  return {
    cluster: c,
    seeds: names.map((_, i) => clientURL(c, i)),
    members: names.map((name, i) => ({
      id: memberId(c, i),
      name: `etcd-${name}`,
      peerURLs: [`https://${name}:${peer}`],
      clientURLs: [clientURL(c, i)],
      isLearner: false,
    })),
    membersError: null,
    statuses: names.map((_, i) => ({
      endpoint: clientURL(c, i),
      memberId: memberId(c, i),
      ok: true,
      error: null,
      version: '3.4.23',
      dbSizeBytes: 2_203_648,
      leaderId: memberId(c, leader),
      raftTerm: 4,
      raftIndex: 18342 + i,
      raftAppliedIndex: 18342 + i,
      isLearner: false,
    })),
    fetchedAt: T0,
  };
}

/**
 * What the sources see of a healthy control plane: every named VM RUNNING in
 * its zone and in the target pool behind the load balancer, each a member of
 * both clusters; main led by the first replica, events by the second.
 */
export function observations(
  names: string[] = [NAMES.a, NAMES.b, NAMES.c],
  zones: string[] = ZONES,
): Observations {
  const instances = names.map((n, i) => vm(n, i, zones[i % zones.length]!));
  return {
    project: 'acme-prod',
    region: 'us-central1',
    masterName: 'kubernetes-master',
    gce: {
      project: 'acme-prod',
      region: 'us-central1',
      masterName: 'kubernetes-master',
      instances,
      forwardingRule: { name: 'kubernetes-master', ip: LB_IP, target: 'kubernetes-master' },
      targetPool: { name: 'kubernetes-master', instances: [...names], instanceUrls: [], healthChecks: [] },
      staticAddress: { name: 'kubernetes-master-ip', address: LB_IP, status: 'IN_USE', users: [] },
      fetchedAt: T0,
    },
    gceError: null,
    etcd: {
      main: cluster('main', names, 0),
      events: cluster('events', names, Math.min(1, names.length - 1)),
    },
    now: new Date(T0),
  };
}

/** Replica i's Status answer in a cluster, changed by `over`. */
export function answer(obs: Observations, c: EtcdClusterName, i: number, over: Partial<EtcdEndpointStatus>) {
  const o = obs.etcd[c]!;
  o.statuses = o.statuses.map((s) => (s.memberId === memberId(c, i) ? { ...s, ...over } : s));
}

/** Replica i's members stop answering (a crashed host, a stopped etcd). */
export function crash(
  obs: Observations,
  i: number,
  {
    clusters = ETCD_CLUSTERS,
    error = 'connection refused',
  }: { clusters?: readonly EtcdClusterName[]; error?: string } = {},
) {
  for (const c of clusters) {
    const o = obs.etcd[c]!;
    o.statuses = o.statuses.map((s) =>
      s.memberId === memberId(c, i)
        ? { endpoint: s.endpoint, memberId: null, forMember: s.memberId, ok: false, error }
        : s,
    );
  }
}

/** Every answering member of a cluster sees replica `leader` lead, in `term`. */
export function elect(obs: Observations, c: EtcdClusterName, leader: number, term: number) {
  const o = obs.etcd[c]!;
  o.statuses = o.statuses.map((s) => (s.ok ? { ...s, leaderId: memberId(c, leader), raftTerm: term } : s));
}

/** Replica i's members leave both member lists (removed, or never added). */
export function dropMembers(obs: Observations, i: number) {
  for (const c of ETCD_CLUSTERS) {
    const o = obs.etcd[c]!;
    o.members = o.members!.filter((m) => m.id !== memberId(c, i));
    o.statuses = o.statuses.filter((s) => s.memberId !== memberId(c, i) && s.forMember !== memberId(c, i));
    o.seeds = o.seeds.filter((u) => u !== clientURL(c, i));
  }
}

/** The named VM leaves the Compute listing (and the target pool with it). */
export function dropVm(obs: Observations, name: string) {
  const g = obs.gce!;
  g.instances = g.instances.filter((x) => x.name !== name);
  leavePool(obs, name);
}

export function leavePool(obs: Observations, name: string) {
  const pool = obs.gce!.targetPool!;
  pool.instances = pool.instances.filter((n) => n !== name);
}

export function healthy3(): ClusterStatus {
  return buildStatus(observations());
}

/**
 * The main leader's host crashed: its members are unreachable while its VM
 * runs, and replica b leads main in term 5. Replica c also dropped out of the
 * target pool, so there is a warning beside the errors.
 */
export function degradedObservations(): Observations {
  const obs = observations();
  elect(obs, 'main', 1, 5);
  crash(obs, 0);
  leavePool(obs, NAMES.c);
  return obs;
}

export function degraded(): ClusterStatus {
  return buildStatus(degradedObservations());
}

/** Two of three main members down, the third answers without a leader: quorum lost. */
export function noLeader(): ClusterStatus {
  const obs = observations();
  crash(obs, 0, { clusters: ['main'] });
  crash(obs, 1, { clusters: ['main'] });
  answer(obs, 'main', 2, { leaderId: '0' });
  return buildStatus(obs);
}

/** Replica q2p's VM is gone but its members, unreachable, are still in both clusters. */
export function memberWithoutVm(): ClusterStatus {
  const obs = observations();
  elect(obs, 'events', 0, 4);
  dropVm(obs, NAMES.c);
  crash(obs, 2);
  return buildStatus(obs);
}

/** A fourth VM that is in no etcd cluster (a failed add), outside the pool. */
export function vmWithoutMember(): ClusterStatus {
  const obs = observations([NAMES.a, NAMES.b, NAMES.c, NAMES.d]);
  dropMembers(obs, 3);
  leavePool(obs, NAMES.d);
  return buildStatus(obs);
}

/** An add in progress: the fourth replica's members are learners, halfway caught up, outside the pool. */
export function learnerPresentObservations(): Observations {
  const obs = observations([NAMES.a, NAMES.b, NAMES.c, NAMES.d]);
  leavePool(obs, NAMES.d);
  for (const c of ETCD_CLUSTERS) {
    const o = obs.etcd[c]!;
    o.members = o.members!.map((m) => (m.id === memberId(c, 3) ? { ...m, isLearner: true } : m));
    answer(obs, c, 3, { isLearner: true, raftIndex: 9120, raftAppliedIndex: 9120 });
  }
  return obs;
}

export function learnerPresent(): ClusterStatus {
  return buildStatus(learnerPresentObservations());
}
