// Builders of source observations for model tests: a healthy 3-zone cluster
// shaped like the lab's, which tests then break in specific ways.
import type { Observations } from '../../src/domain/status.js';
import type {
  EtcdClusterName,
  EtcdObservation,
  GceInstance,
  GceObservation,
} from '../../src/domain/types.js';

export const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];
export const NAMES = ['kubernetes-master', 'kubernetes-master-x7k', 'kubernetes-master-q2p'];

export function instance(i: number, over: Partial<GceInstance> = {}): GceInstance {
  return {
    name: NAMES[i] ?? `kubernetes-master-r${i}`,
    zone: ZONES[i] ?? 'us-central1-a',
    status: 'RUNNING',
    internalIP: `127.20.1.${i + 1}`,
    externalIP: `127.20.2.${i + 1}`,
    metadata: {},
    ...over,
  };
}

export function gce(n = 3, over: Partial<GceObservation> = {}): GceObservation {
  const instances = Array.from({ length: n }, (_, i) => instance(i));
  const multi = n >= 2;
  return {
    project: 'kube-ha-lab',
    region: 'us-central1',
    masterName: 'kubernetes-master',
    instances,
    forwardingRule: multi
      ? { name: 'kubernetes-master', ip: '127.20.3.1', target: 'kubernetes-master' }
      : null,
    targetPool: multi
      ? {
          name: 'kubernetes-master',
          instances: instances.map((x) => x.name),
          instanceUrls: [],
          healthChecks: [],
        }
      : null,
    staticAddress: {
      name: 'kubernetes-master-ip',
      address: multi ? '127.20.3.1' : (instances[0]?.externalIP ?? ''),
      status: 'IN_USE',
      users: [],
    },
    fetchedAt: 0,
    ...over,
  };
}

const PORTS: Record<EtcdClusterName, [number, number]> = { main: [2379, 2380], events: [4002, 2381] };

export function etcd(cluster: EtcdClusterName, n = 3, leader = 0): EtcdObservation {
  const [client, peer] = PORTS[cluster];
  const base = cluster === 'main' ? 0xa0 : 0xb0;
  // As kube-up starts them: peer URLs by instance name, client URLs advertised
  // as the member's own loopback; each is asked at its VM's address.
  const scheme = cluster === 'main' ? 'https' : 'http';
  const members = Array.from({ length: n }, (_, i) => ({
    id: (base + i).toString(16),
    name: `etcd-${NAMES[i] ?? `kubernetes-master-r${i}`}`,
    peerURLs: [`https://${NAMES[i] ?? `kubernetes-master-r${i}`}:${peer}`],
    clientURLs: [`${scheme}://127.0.0.1:${client}`],
    isLearner: false,
  }));
  return {
    cluster,
    seeds: members.map((_, i) => `${scheme}://127.20.1.${i + 1}:${client}`),
    members,
    membersError: null,
    statuses: members.map((m, i) => ({
      endpoint: `${scheme}://127.20.1.${i + 1}:${client}`,
      memberId: m.id,
      ok: true,
      error: null,
      version: '3.4.23',
      dbSizeBytes: 20480,
      leaderId: (base + leader).toString(16),
      raftTerm: 2,
      raftIndex: 100,
      raftAppliedIndex: 100,
      isLearner: false,
    })),
    fetchedAt: 0,
  };
}

export function healthy(n = 3): Observations {
  return {
    project: 'kube-ha-lab',
    region: 'us-central1',
    masterName: 'kubernetes-master',
    gce: gce(n),
    gceError: null,
    etcd: { main: etcd('main', n), events: etcd('events', n) },
  };
}

/** The member at index i stops answering (crashed VM). */
export function crash(obs: EtcdObservation, i: number): EtcdObservation {
  const m = obs.members![i]!;
  return {
    ...obs,
    statuses: obs.statuses.map((s) =>
      s.memberId === m.id
        ? { endpoint: s.endpoint, memberId: null, forMember: m.id, ok: false, error: 'connection refused' }
        : s,
    ),
  };
}
