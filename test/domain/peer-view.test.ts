// The peer view (src/domain/peer-view.ts): what a replica knows of the members
// it cannot ask, from its own member's Status and /metrics, through the whole
// model (buildStatus) as status and the console see it.
import { describe, expect, it } from 'vitest';
import { type PeerObservation, peerObservationError, peerObservationOf } from '../../src/domain/peer-view.js';
import { buildStatus } from '../../src/domain/status.js';
import type { EtcdObservation } from '../../src/domain/types.js';
import { etcd, healthy, NAMES } from '../helpers/observations.js';

/**
 * etcd main as seen from replica 0: only its member answers (at 127.0.0.1);
 * the others' client ports refuse; its metrics say who it is connected to.
 */
function fromReplica0(
  connected: boolean[],
  opts: { leader?: number; hasLeader?: boolean } = {},
): EtcdObservation {
  const obs = etcd('main', 3, opts.leader ?? 1);
  const [a, ...others] = obs.members!;
  const local = { ...obs.statuses[0]!, endpoint: 'https://127.0.0.1:2379' };
  if (opts.hasLeader === false) local.leaderId = '0';
  const text = [
    ...others.map(
      (m, i) => `etcd_network_active_peers{Local="${a!.id}",Remote="${m.id}"} ${connected[i + 1] ? 1 : 0}`,
    ),
    `etcd_network_peer_round_trip_time_seconds_sum{To="${others[0]!.id}"} 0.5`,
    `etcd_network_peer_round_trip_time_seconds_count{To="${others[0]!.id}"} 100`,
    `etcd_server_has_leader ${opts.hasLeader === false ? 0 : 1}`,
    'etcd_server_leader_changes_seen_total 1',
  ].join('\n');
  return {
    ...obs,
    seeds: ['https://127.0.0.1:2379'],
    statuses: [
      local,
      ...others.map((m, i) => ({
        endpoint: `https://127.20.1.${i + 2}:2379`,
        memberId: null,
        forMember: m.id,
        ok: false,
        error: `connection refused (127.20.1.${i + 2}:2379)`,
      })),
    ],
    peers: peerObservationOf(text, NAMES[0]!, 'http://127.0.0.1:2382/metrics'),
  };
}

const statusWith = (main: EtcdObservation) => buildStatus({ ...healthy(), etcd: { main, events: null } });

describe('the local member’s metrics', () => {
  it('name the local member, each peer connected or not, the mean round trip, the leader gauges', () => {
    const p = fromReplica0([true, true, false]).peers!;
    expect(p).toEqual({
      from: 'kubernetes-master',
      url: 'http://127.0.0.1:2382/metrics',
      localMemberId: 'a0',
      hasLeader: true,
      leaderChanges: 1,
      peers: { a1: { connected: true, latencyMs: 5 }, a2: { connected: false, latencyMs: null } },
      error: null,
    } satisfies PeerObservation);
  });

  it('normalise zero-padded IDs as etcdctl prints them, and ignore labels that are not IDs', () => {
    const p = peerObservationOf(
      'etcd_network_active_peers{Local="00ab",Remote="0f22b20f91b29e04"} 1\netcd_network_active_peers{Local="ab",Remote="nope"} 1',
      'r',
      'u',
    );
    expect([p.localMemberId, p.peers]).toEqual([
      'ab',
      { f22b20f91b29e04: { connected: true, latencyMs: null } },
    ]);
  });
});

describe('members seen from a replica', () => {
  it('connected peers in a cluster with a leader are healthy voters "seen from" the replica; the cluster 3/3', () => {
    const s = statusWith(fromReplica0([true, true, true]));
    expect(s.etcd.main).toMatchObject({
      healthyVoters: 3,
      votingMembers: 3,
      faultTolerance: 1,
      leaderId: 'a1',
    });
    expect(
      s.replicas.map((r) => [r.name, r.etcd.main?.healthy, r.etcd.main?.seenFrom, r.etcd.main?.leader]),
    ).toEqual([
      ['kubernetes-master', true, null, false],
      ['kubernetes-master-x7k', true, 'kubernetes-master', true],
      ['kubernetes-master-q2p', true, 'kubernetes-master', false],
    ]);
    const seen = s.replicas.find((r) => r.name === 'kubernetes-master-x7k')!.etcd.main!;
    expect([seen.state, seen.error, seen.raftTerm, seen.raftIndex]).toEqual(['healthy', null, 2, null]);
    expect(s.warnings.filter((w) => w.severity === 'error')).toEqual([]);
  });

  it('a peer the local member is not connected to is down, seen from the replica: 2/3, tolerates none', () => {
    const s = statusWith(fromReplica0([true, true, false]));
    expect(s.etcd.main).toMatchObject({ healthyVoters: 2, faultTolerance: 0 });
    const down = s.replicas.find((r) => r.name === 'kubernetes-master-q2p')!.etcd.main!;
    expect(down).toMatchObject({
      healthy: false,
      leader: false,
      state: 'unreachable',
      seenFrom: 'kubernetes-master',
    });
    expect(down.error).toMatch(
      /not connected to kubernetes-master's member .*down, seen from kubernetes-master/,
    );
    expect(s.warnings.map((w) => [w.code, w.replica])).toContainEqual([
      'UNHEALTHY_MEMBER',
      'kubernetes-master-q2p',
    ]);
  });

  it('with no leader seen, no peer counts as healthy (and neither does the local member)', () => {
    const s = statusWith(fromReplica0([true, true, true], { hasLeader: false }));
    expect(s.etcd.main.healthyVoters).toBe(0);
    expect(s.replicas.every((r) => !r.etcd.main?.healthy)).toBe(true);
  });

  it('when the metrics could not be read, nothing is seen: the others stay unreachable, marked observed', () => {
    const obs = fromReplica0([true, true, true]);
    obs.peers = peerObservationError(
      'kubernetes-master',
      'http://127.0.0.1:2382/metrics',
      'connection refused',
    );
    const s = statusWith(obs);
    expect(s.etcd.main.healthyVoters).toBe(1);
    expect(s.replicas.map((r) => r.etcd.main?.seenFrom)).toEqual([null, null, null]);
  });

  it('when the local member itself does not answer, nothing is seen from it', () => {
    const obs = fromReplica0([true, true, true]);
    obs.statuses[0] = { endpoint: 'https://127.0.0.1:2379', memberId: null, ok: false, error: 'refused' };
    expect(statusWith(obs).etcd.main.healthyVoters).toBe(0);
  });

  it('off a replica (no peer view) member views carry no seenFrom at all', () => {
    const s = buildStatus(healthy());
    expect(s.replicas.every((r) => r.etcd.main !== null && !('seenFrom' in r.etcd.main))).toBe(true);
  });
});
