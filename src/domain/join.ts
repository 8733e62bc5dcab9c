// Joins what GCE says (instances) with what etcd says (members) into replicas.
// Members are matched by name, then by the host of their peer URLs (instance
// name or IP), never by name alone: a member that was added but never started
// has no name. Client URLs are not used: kube-up advertises 127.0.0.1 on every
// member. Members are distinct by ID.

import { isIPAddress, isLoopbackHost } from './member-endpoints.js';
import { capacityOf, judgeMember } from './member-health.js';
import { isReplicaName, urlHost } from './names.js';
import { withPeerView } from './peer-view.js';
import type {
  EtcdClusterName,
  EtcdEndpointStatus,
  EtcdMember,
  EtcdObservation,
  GceInstance,
  MemberDisk,
  MemberView,
  ReplicaView,
} from './types.js';
import { ETCD_CLUSTERS } from './types.js';

/** etcd's "no leader" member ID. */
const NO_LEADER = '0';

export function statusOfMember(
  member: EtcdMember,
  statuses: EtcdEndpointStatus[],
): EtcdEndpointStatus | undefined {
  return (
    statuses.find((s) => s.ok && s.memberId === member.id) ??
    statuses.find((s) => !s.ok && s.forMember === member.id)
  );
}

/** The leader agreed by the answering member with the newest term. */
export function clusterLeader(obs: EtcdObservation | null): string | null {
  let best: EtcdEndpointStatus | null = null;
  for (const s of obs?.statuses ?? []) {
    if (!s.ok || !s.leaderId || s.leaderId === NO_LEADER) continue;
    if (!best || (s.raftTerm ?? 0) > (best.raftTerm ?? 0)) best = s;
  }
  return best?.leaderId ?? null;
}

export function memberView(member: EtcdMember, obs: EtcdObservation, leaderId: string | null): MemberView {
  const st = statusOfMember(member, obs.statuses);
  let noAnswer: string | null = null;
  if (!member.name && member.clientURLs.length === 0) noAnswer = 'not started (added, never joined)';
  else if (!st) noAnswer = obs.unreachable?.[member.id] ?? 'no status';
  const j = judgeMember({ status: st, learner: member.isLearner, noAnswer });
  const answered = Boolean(st?.ok);
  return {
    memberId: member.id,
    name: member.name,
    peerURLs: member.peerURLs,
    clientURLs: member.clientURLs,
    endpoint: st?.endpoint ?? null,
    healthy: j.healthy,
    leader: j.healthy && member.id === leaderId,
    learner: member.isLearner,
    raftTerm: st?.raftTerm ?? null,
    raftIndex: st?.raftIndex ?? null,
    raftAppliedIndex: st?.raftAppliedIndex ?? null,
    dbSizeBytes: st?.dbSizeBytes ?? null,
    version: st?.version ?? null,
    error: j.error,
    state: j.state,
    alarms: j.alarms,
    slow: j.slow,
    latencyMs: answered ? (st?.latencyMs ?? null) : null,
    capacity: capacityOf(st),
    disk: answered && st?.metrics ? diskOf(st.metrics) : null,
    catchUp: member.isLearner && answered ? catchUpOf(st!, obs, leaderId) : null,
    ...(st?.cert !== undefined ? { cert: st.cert } : {}),
  };
}

function diskOf(m: MemberDisk): MemberDisk {
  return {
    walFsyncP99Ms: m.walFsyncP99Ms,
    backendCommitP99Ms: m.backendCommitP99Ms,
    ...(m.window ? { window: m.window } : {}),
  };
}

/** A learner's applied index against the leader's raft index (null when the leader did not answer). */
function catchUpOf(
  st: EtcdEndpointStatus,
  obs: EtcdObservation,
  leaderId: string | null,
): { appliedIndex: number; leaderIndex: number } | null {
  const leader = leaderId ? obs.statuses.find((s) => s.ok && s.memberId === leaderId) : undefined;
  if (!leader?.raftIndex || st.raftAppliedIndex === undefined) return null;
  return { appliedIndex: st.raftAppliedIndex, leaderIndex: leader.raftIndex };
}

function memberHosts(m: EtcdMember): string[] {
  return m.peerURLs.map(urlHost).filter((h): h is string => h !== null);
}

function memberMatchesInstance(m: EtcdMember, inst: GceInstance): boolean {
  if (m.name && (m.name === `etcd-${inst.name}` || m.name === inst.name)) return true;
  const hosts = memberHosts(m);
  return hosts.includes(inst.name) || (inst.internalIP !== null && hosts.includes(inst.internalIP));
}

/** A replica name for a member no VM claims: its name without `etcd-`, else its peer host. */
function orphanName(m: EtcdMember): string {
  if (m.name) return m.name.startsWith('etcd-') ? m.name.slice(5) : m.name;
  return urlHost(m.peerURLs[0] ?? '') ?? `member-${m.id}`;
}

/**
 * The keys that put a main and an events member without a VM on one replica:
 * its name when it has one (kube-up names both `etcd-<instance>`), else its
 * peer host. A host shared by members of one cluster (etcd's own one-host
 * layout, ports apart) never merges them: see joinReplicas.
 */
function orphanAliases(m: EtcdMember): string[] {
  return m.name ? [orphanName(m)] : [orphanName(m), ...memberHosts(m)];
}

/**
 * The address of a member without a VM: its peer host when that is an IP,
 * else where it answered (kube-up's peer URLs name the instance), else the name.
 */
function orphanAddress(m: EtcdMember, view: MemberView): string | null {
  const peer = urlHost(m.peerURLs[0] ?? '');
  if (peer && isIPAddress(peer)) return peer;
  const answered = view.endpoint ? urlHost(view.endpoint) : null;
  return answered && !isLoopbackHost(answered) ? answered : peer;
}

export interface JoinInput {
  masterName: string;
  /** null when GCE was not observed (etcd-only mode): VMs are then UNKNOWN, not MISSING. */
  instances: GceInstance[] | null;
  /** Zones GCE could not list: a member without a VM may have it there. */
  unreachableZones?: string[];
  targetPoolInstances: string[];
  etcd: Record<EtcdClusterName, EtcdObservation | null>;
  leaders: Record<EtcdClusterName, string | null>;
}

export function joinReplicas(input: JoinInput): ReplicaView[] {
  const replicas: ReplicaView[] = [];
  const byInstance = new Map<string, ReplicaView>();
  for (const inst of input.instances ?? []) {
    if (!isReplicaName(input.masterName, inst.name)) continue;
    const r: ReplicaView = {
      name: inst.name,
      zone: inst.zone,
      vm: { status: inst.status, internalIP: inst.internalIP, externalIP: inst.externalIP },
      etcd: { main: null, events: null },
      inTargetPool: input.targetPoolInstances.includes(inst.name),
    };
    replicas.push(r);
    byInstance.set(inst.name, r);
  }
  const instances = (input.instances ?? []).filter((i) => byInstance.has(i.name));

  // Orphans are keyed by every alias (name and hosts) so that a member's main
  // and events entries land on one replica even without a VM.
  const orphans = new Map<string, ReplicaView>();
  for (const cluster of ETCD_CLUSTERS) {
    const obs = input.etcd[cluster];
    if (!obs?.members) continue;
    for (const m of obs.members) {
      // On a replica, members it cannot ask are seen from its own member (peer-view.ts).
      const view = withPeerView(memberView(m, obs, input.leaders[cluster]), m, obs);
      const inst = instances.find((i) => memberMatchesInstance(m, i));
      let replica = inst ? byInstance.get(inst.name) : undefined;
      if (!replica) {
        const aliases = orphanAliases(m);
        // Only a replica that has no member of this cluster yet: members are distinct by ID.
        replica = aliases.map((a) => orphans.get(a)).find((r) => r !== undefined && r.etcd[cluster] === null);
        if (!replica) {
          replica = {
            name: orphanName(m),
            zone: null,
            vm: {
              status: input.instances === null || input.unreachableZones?.length ? 'UNKNOWN' : 'MISSING',
              internalIP: orphanAddress(m, view),
              externalIP: null,
            },
            etcd: { main: null, events: null },
            inTargetPool: input.targetPoolInstances.includes(orphanName(m)),
          };
          replicas.push(replica);
        }
        for (const a of aliases) orphans.set(a, replica);
      }
      replica.etcd[cluster] = view;
    }
  }
  return replicas.sort(compareReplicas);
}

function compareReplicas(a: ReplicaView, b: ReplicaView): number {
  if (a.zone !== b.zone) {
    if (a.zone === null) return 1;
    if (b.zone === null) return -1;
    return a.zone < b.zone ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
