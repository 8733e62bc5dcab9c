// What a replica can know of the members it cannot ask: kube-up's etcd
// listens for clients on 127.0.0.1 only, so from a replica only the local
// member answers. Its Status says the leader and the raft term; its /metrics
// say which peers it is connected to (etcd_network_active_peers{Local,Remote}
// is 1 while a peer's stream is up, 0 once it broke), the peers' round-trip
// times, whether it has a leader and how often that changed. A member the
// local member is connected to, in a cluster that has a leader, is a healthy
// voter "seen from <replica>"; one it is not connected to is down, seen from
// there. (A frozen peer keeps its TCP streams for a while: connected is what
// etcd itself believes, no more.) Pure.
import { type ParsedMetrics, parsePrometheusText, samplesNamed } from './prometheus-text.js';
import type { EtcdMember, EtcdObservation, MemberView } from './types.js';

/** The local member's view of its peers, from its /metrics. */
export interface PeerObservation {
  /** The replica whose member was asked. */
  from: string;
  /** Where its metrics were read. */
  url: string;
  /** The local member's ID (hex) as the metrics name it; null when they name none. */
  localMemberId: string | null;
  /** etcd_server_has_leader; null when absent. */
  hasLeader: boolean | null;
  /** etcd_server_leader_changes_seen_total; null when absent. */
  leaderChanges: number | null;
  /** By member ID (hex): connected now, and the mean peer round trip since the member started. */
  peers: Record<string, { connected: boolean; latencyMs: number | null }>;
  /** Why the metrics could not be read (then everything above is empty). */
  error: string | null;
}

/** The metric families the peer view reads (only these lines are parsed). */
export const PEER_METRICS = [
  'etcd_network_active_peers',
  'etcd_network_peer_round_trip_time_seconds_sum',
  'etcd_network_peer_round_trip_time_seconds_count',
  'etcd_server_has_leader',
  'etcd_server_leader_changes_seen_total',
] as const;

/** etcd prints member IDs as unpadded lower-case hex (types.ID.String); kube-ha too. */
function hexId(s: string | undefined): string | null {
  if (!s || !/^[0-9a-fA-F]{1,16}$/.test(s)) return null;
  return BigInt(`0x${s}`).toString(16);
}

function single(m: ParsedMetrics, name: string): number | null {
  const s = samplesNamed(m, name)[0];
  return s && Number.isFinite(s.value) ? s.value : null;
}

export function peerObservationOf(text: string, from: string, url: string): PeerObservation {
  const m = parsePrometheusText(text, PEER_METRICS);
  const peers: PeerObservation['peers'] = {};
  let local: string | null = null;
  for (const s of samplesNamed(m, 'etcd_network_active_peers')) {
    const remote = hexId(s.labels.Remote);
    if (!remote) continue;
    local ??= hexId(s.labels.Local);
    peers[remote] = { connected: s.value >= 1, latencyMs: null };
  }
  const sums = samplesNamed(m, 'etcd_network_peer_round_trip_time_seconds_sum');
  for (const c of samplesNamed(m, 'etcd_network_peer_round_trip_time_seconds_count')) {
    const to = hexId(c.labels.To);
    const sum = sums.find((s) => s.labels.To === c.labels.To)?.value;
    if (!to || sum === undefined || !(c.value > 0)) continue;
    // Rounded to 10 µs, in ms; a peer with round trips but no active_peers series was never connected.
    peers[to] = {
      connected: peers[to]?.connected ?? false,
      latencyMs: Math.round((sum / c.value) * 1e5) / 100,
    };
  }
  const hasLeader = single(m, 'etcd_server_has_leader');
  return {
    from,
    url,
    localMemberId: local,
    hasLeader: hasLeader === null ? null : hasLeader >= 1,
    leaderChanges: single(m, 'etcd_server_leader_changes_seen_total'),
    peers,
    error: null,
  };
}

export function peerObservationError(from: string, url: string, error: string): PeerObservation {
  return { from, url, localMemberId: null, hasLeader: null, leaderChanges: null, peers: {}, error };
}

/**
 * A member's view, with the peer view applied when the observation carries
 * one (kube-ha runs on a replica): a member that answered is `observed`
 * (seenFrom null); one that did not is judged from the local member's
 * Status and peer connections, `seenFrom` naming the replica. Without a peer
 * view the view is returned as it is.
 */
export function withPeerView(view: MemberView, member: EtcdMember, obs: EtcdObservation): MemberView {
  const peers = obs.peers;
  if (!peers) return view;
  const answered = obs.statuses.some((s) => s.ok && s.memberId === member.id);
  // A member never started has nothing to see; the local member's own failure is its own.
  const neverStarted = !member.name && member.clientURLs.length === 0;
  if (answered || neverStarted || peers.error || member.id === peers.localMemberId)
    return { ...view, seenFrom: null };
  const local = obs.statuses.find((s) => s.ok && s.memberId === peers.localMemberId);
  // The local member did not answer its Status: nothing is seen from it.
  if (!local) return { ...view, seenFrom: null };
  const connected = peers.peers[member.id]?.connected ?? false;
  const leaderId = local.leaderId && local.leaderId !== '0' ? local.leaderId : null;
  const hasLeader = (peers.hasLeader ?? true) && leaderId !== null;
  const healthy = connected && hasLeader;
  const error = healthy
    ? null
    : !connected
      ? `not connected to ${peers.from}'s member (etcd_network_active_peers 0): down, seen from ${peers.from}`
      : `${peers.from}'s member sees no leader`;
  return {
    ...view,
    healthy,
    leader: healthy && member.id === leaderId,
    raftTerm: healthy ? (local.raftTerm ?? null) : null,
    error,
    state: healthy ? (member.isLearner ? 'learner' : 'healthy') : 'unreachable',
    seenFrom: peers.from,
  };
}
