// Hand-written ClusterStatus values for the console tests: a healthy 3-zone
// control plane and the ways it breaks. Quorum numbers are computed from the
// replicas so that a fixture cannot contradict itself.
import type {
  ClusterHealth,
  ClusterStatus,
  EtcdClusterName,
  MemberView,
  ReplicaView,
  Warning,
} from '../../src/domain/types.js';

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

export const NAMES = {
  a: 'kubernetes-master',
  b: 'kubernetes-master-x7k',
  c: 'kubernetes-master-q2p',
  d: 'kubernetes-master-n3w',
} as const;

export function member(cluster: EtcdClusterName, i: number, over: Partial<MemberView> = {}): MemberView {
  const name = Object.values(NAMES)[i] ?? `kubernetes-master-r${i}`;
  const [client, peer] = cluster === 'main' ? [2379, 2380] : [4002, 2381];
  return {
    memberId: (cluster === 'main'
      ? 0x8e9e05c52164694dn + BigInt(i)
      : 0x2a7c41f0b3d5e8c1n + BigInt(i)
    ).toString(16),
    name: `etcd-${name}`,
    peerURLs: [`https://${name}:${peer}`],
    clientURLs: [`https://10.128.0.${i + 2}:${client}`],
    healthy: true,
    leader: false,
    learner: false,
    raftTerm: 4,
    raftIndex: 18342 + i,
    raftAppliedIndex: 18342 + i,
    dbSizeBytes: 2_203_648,
    version: '3.4.23',
    error: null,
    state: 'healthy',
    alarms: [],
    ...over,
  };
}

/** A member that stopped answering: no status fields, an error. */
export function down(m: MemberView, error = 'connection refused'): MemberView {
  return {
    ...m,
    healthy: false,
    leader: false,
    raftTerm: null,
    raftIndex: null,
    raftAppliedIndex: null,
    dbSizeBytes: null,
    version: null,
    error,
    state: 'unreachable',
  };
}

export function replica(i: number, zone: string | null, over: Partial<ReplicaView> = {}): ReplicaView {
  const name = Object.values(NAMES)[i] ?? `kubernetes-master-r${i}`;
  return {
    name,
    zone,
    vm: { status: 'RUNNING', internalIP: `10.128.0.${i + 2}`, externalIP: `34.66.10.${i + 10}` },
    etcd: { main: member('main', i), events: member('events', i) },
    inTargetPool: true,
    ...over,
  };
}

function health(replicas: ReplicaView[], cluster: EtcdClusterName): ClusterHealth {
  const members = replicas.map((r) => r.etcd[cluster]).filter((m): m is MemberView => m !== null);
  const voters = members.filter((m) => !m.learner);
  const healthyVoters = voters.filter((m) => m.healthy).length;
  const quorum = voters.length ? Math.floor(voters.length / 2) + 1 : 0;
  return {
    members: members.length,
    votingMembers: voters.length,
    healthyMembers: members.filter((m) => m.healthy).length,
    healthyVoters,
    quorum,
    faultTolerance: voters.length && healthyVoters >= quorum ? healthyVoters - quorum : -1,
    leaderId: members.find((m) => m.leader)?.memberId ?? null,
    learners: members.length - voters.length,
    observed: true,
    error: null,
  };
}

export function status(replicas: ReplicaView[], warnings: Warning[] = []): ClusterStatus {
  const pool = replicas.filter((r) => r.inTargetPool && r.vm.status !== 'MISSING').map((r) => r.name);
  return {
    project: 'acme-prod',
    region: 'us-central1',
    masterName: 'kubernetes-master',
    replicas,
    etcd: { main: health(replicas, 'main'), events: health(replicas, 'events') },
    loadBalancer: {
      forwardingRule: 'kubernetes-master',
      ip: '35.192.0.10',
      targetPool: 'kubernetes-master',
      instances: pool,
    },
    apiserverIP: { address: '35.192.0.10', attachedTo: 'load-balancer' },
    warnings,
    sources: { gce: true, etcd: true },
    observedAt: new Date(T0).toISOString(),
  };
}

function withLeaders(
  replicas: ReplicaView[],
  mainLeader: number | null,
  eventsLeader: number | null,
): ReplicaView[] {
  return replicas.map((r, i) => ({
    ...r,
    etcd: {
      main: r.etcd.main && { ...r.etcd.main, leader: i === mainLeader },
      events: r.etcd.events && { ...r.etcd.events, leader: i === eventsLeader },
    },
  }));
}

export function healthy3(): ClusterStatus {
  return status(
    withLeaders(
      [replica(0, 'us-central1-a'), replica(1, 'us-central1-b'), replica(2, 'us-central1-c')],
      0,
      1,
    ),
  );
}

/** The main leader's VM crashed: its members are unreachable, replica b took over main. */
export function degraded(): ClusterStatus {
  const [a, b, c] = withLeaders(
    [replica(0, 'us-central1-a'), replica(1, 'us-central1-b'), replica(2, 'us-central1-c')],
    1,
    1,
  ) as [ReplicaView, ReplicaView, ReplicaView];
  const crashed: ReplicaView = {
    ...a,
    etcd: { main: down(a.etcd.main as MemberView), events: down(a.etcd.events as MemberView) },
  };
  const b5 = { ...b, etcd: { ...b.etcd, main: { ...(b.etcd.main as MemberView), raftTerm: 5 } } };
  return status(
    [crashed, b5, c],
    [
      // Listed warning-first on purpose: the panel must put errors first.
      {
        code: 'LOAD_BALANCER_MISMATCH',
        severity: 'warning',
        message: 'kubernetes-master-x7k is healthy but not in the target pool',
      },
      {
        code: 'UNHEALTHY_MEMBER',
        severity: 'error',
        replica: crashed.name,
        cluster: 'main',
        message: `${crashed.name}: etcd main member ${crashed.etcd.main?.memberId} unhealthy: connection refused`,
      },
      {
        code: 'UNHEALTHY_MEMBER',
        severity: 'error',
        replica: crashed.name,
        cluster: 'events',
        message: `${crashed.name}: etcd events member ${crashed.etcd.events?.memberId} unhealthy: connection refused`,
      },
    ],
  );
}

/** Two of three main members down: quorum lost, no leader. */
export function noLeader(): ClusterStatus {
  const [a, b, c] = withLeaders(
    [replica(0, 'us-central1-a'), replica(1, 'us-central1-b'), replica(2, 'us-central1-c')],
    null,
    1,
  ) as [ReplicaView, ReplicaView, ReplicaView];
  const lost = (r: ReplicaView): ReplicaView => ({
    ...r,
    etcd: { ...r.etcd, main: down(r.etcd.main as MemberView) },
  });
  const stuck: ReplicaView = {
    ...c,
    etcd: {
      ...c.etcd,
      main: { ...(c.etcd.main as MemberView), healthy: false, error: 'no leader visible from this member' },
    },
  };
  return status(
    [lost(a), lost(b), stuck],
    [
      {
        code: 'QUORUM_LOST',
        severity: 'error',
        cluster: 'main',
        message: 'etcd main has lost quorum: 0 of 3 voters healthy, 2 needed',
      },
      { code: 'NO_LEADER', severity: 'error', cluster: 'main', message: 'etcd main has no leader' },
    ],
  );
}

/** Replica q2p's VM is gone but its members are still in both clusters. */
export function memberWithoutVm(): ClusterStatus {
  const [a, b, c] = withLeaders(
    [replica(0, 'us-central1-a'), replica(1, 'us-central1-b'), replica(2, 'us-central1-c')],
    0,
    0,
  ) as [ReplicaView, ReplicaView, ReplicaView];
  const ghost: ReplicaView = {
    ...c,
    zone: null,
    vm: { status: 'MISSING', internalIP: c.name, externalIP: null },
    inTargetPool: false,
    etcd: { main: down(c.etcd.main as MemberView), events: down(c.etcd.events as MemberView) },
  };
  return status(
    [a, b, ghost],
    [
      {
        code: 'MEMBER_WITHOUT_VM',
        severity: 'error',
        replica: ghost.name,
        message: `${ghost.name}: etcd member has no VM (a voter that will never come back; remove it)`,
      },
    ],
  );
}

/** A fourth VM that is in no etcd cluster (a failed add). */
export function vmWithoutMember(): ClusterStatus {
  const base = healthy3();
  const stray = replica(3, 'us-central1-f', { etcd: { main: null, events: null }, inTargetPool: false });
  return status(
    [...base.replicas, stray],
    [
      {
        code: 'VM_WITHOUT_MEMBER',
        severity: 'warning',
        replica: stray.name,
        message: `${stray.name}: VM exists but is not a member of etcd main`,
      },
    ],
  );
}

/** An add in progress: the fourth replica's members are learners, catching up. */
export function learnerPresent(): ClusterStatus {
  const base = healthy3();
  const learner = replica(3, 'us-central1-f', {
    etcd: {
      main: member('main', 3, { learner: true, raftIndex: 9120, raftAppliedIndex: 9120 }),
      events: member('events', 3, { learner: true }),
    },
    inTargetPool: false,
  });
  return status(
    [...base.replicas, learner],
    [
      {
        code: 'LEARNER_PRESENT',
        severity: 'warning',
        cluster: 'main',
        message: 'etcd main has 1 learner (an add is in progress or was left unfinished)',
      },
      {
        code: 'LEARNER_PRESENT',
        severity: 'warning',
        cluster: 'events',
        message: 'etcd events has 1 learner (an add is in progress or was left unfinished)',
      },
    ],
  );
}
