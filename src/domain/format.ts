// Words and numbers as operators read them; shared by the text status and the console.
import { memberStateWords } from './member-health.js';
import type { ClusterHealth, EtcdClusterName, MemberView, ReplicaView } from './types.js';

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/**
 * `healthy`, `in alarm NOSPACE`, `slow`, `learner 95% caught up`, `unhealthy`,
 * `unreachable`, `not started`: health in words, never colour alone.
 */
export function memberHealthWord(m: MemberView | null): string {
  if (!m) return 'no member';
  if (m.healthy) return m.state ? memberStateWords(m) : m.learner ? 'learner' : 'healthy';
  if (m.error?.startsWith('not started')) return 'not started';
  if (m.raftTerm === null) return 'unreachable';
  return 'unhealthy';
}

export function failuresWord(n: number): string {
  if (n < 0) return 'QUORUM LOST';
  return `tolerates ${n} failure${n === 1 ? '' : 's'}`;
}

/** `main 3/3 healthy · quorum 2 · tolerates 1 failure` */
export function quorumSummary(cluster: EtcdClusterName, h: ClusterHealth, sep = '·'): string {
  if (!h.observed) return `${cluster} not observed`;
  if (h.error) return `${cluster} unreachable`;
  const learners = h.learners ? ` ${sep} ${h.learners} learner${h.learners === 1 ? '' : 's'}` : '';
  return `${cluster} ${h.healthyVoters}/${h.votingMembers} healthy ${sep} quorum ${h.quorum} ${sep} ${failuresWord(h.faultTolerance)}${learners}`;
}

export function leaderReplica(replicas: ReplicaView[], cluster: EtcdClusterName): string | null {
  return replicas.find((r) => r.etcd[cluster]?.leader)?.name ?? null;
}
