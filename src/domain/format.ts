// Words and numbers as operators read them: one vocabulary for `kube-ha
// status`, the console, its timeline and the incident log, so that all say
// the same thing about the same state. Pure.
import { memberStateWords } from './member-health.js';
import type {
  ClusterHealth,
  ClusterStatus,
  EtcdClusterName,
  MemberView,
  ReplicaView,
  Warning,
} from './types.js';

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * `2.1 MB`, `85 MB`: 1024-based, hence KB (not the SI kB); `?` when unknown.
 * Three significant digits at most: a DB size is read, not added up.
 */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** A duration to the tenth of a second, for what an operation's steps took: `12.3 s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** Short age: 4s, 2m05s, 1h02m. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An age to the minute, for what is redrawn only now and then: `just now`, `42m ago`, `3h05m ago`, `2d ago`. */
export function formatAgeMinutes(ms: number): string {
  const m = Math.floor(Math.max(0, ms) / 60_000);
  if (m < 1) return 'just now';
  if (m < 60) return `${m}m ago`;
  if (m < 48 * 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m ago`;
  return `${Math.floor(m / (24 * 60))}d ago`;
}

/** Local wall-clock time, HH:MM:SS. */
export function clockTime(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export type HealthWord = 'healthy' | 'in alarm' | 'slow' | 'unhealthy' | 'unreachable';

/**
 * The member's health in one word (colours and transitions go by it).
 * healthy: answered and reports no problem. in alarm: answers and votes, but
 * the cluster refuses writes (NOSPACE, CORRUPT): never "unhealthy". slow:
 * answers slowly. unreachable: no status at all (down, frozen, never
 * started). unhealthy: answered, but reports a problem (no leader).
 */
export function healthWord(m: MemberView): HealthWord {
  if (m.healthy) return m.state === 'alarm' ? 'in alarm' : m.state === 'slow' ? 'slow' : 'healthy';
  if (m.raftTerm === null && m.raftIndex === null && m.version === null) return 'unreachable';
  return 'unhealthy';
}

/**
 * The member's state in words, never colour alone: `healthy`, `in alarm
 * NOSPACE`, `slow`, `learner 95% caught up`, `unhealthy`, `unreachable`,
 * `not started`, `no member`.
 */
export function memberWords(m: MemberView | null): string {
  if (!m) return 'no member';
  const word = healthWord(m);
  if (word === 'unreachable') return m.error?.startsWith('not started') ? 'not started' : word;
  if (word === 'unhealthy') return word;
  return memberStateWords(m);
}

/** Whether `learner` must be said next to the member's words (they say it already while it catches up). */
export function learnerMark(m: MemberView): boolean {
  return m.learner && !memberWords(m).startsWith('learner');
}

/**
 * `3/3 healthy, quorum 2, tolerates 1 failure` (no cluster name). Callers
 * pass their separator: the screen and the status text ` · `, stored text
 * (timeline, exports) commas.
 */
export function quorumSummary(h: ClusterHealth, sep = ', '): string {
  if (!h.observed) return 'not observed';
  if (h.error && h.members === 0) return `unknown: ${h.error}`;
  const parts = [`${h.healthyVoters}/${h.votingMembers} healthy`, `quorum ${h.quorum}`];
  if (h.faultTolerance < 0) parts.push('QUORUM LOST');
  else if (h.faultTolerance === 0) parts.push('tolerates no failure');
  else parts.push(`tolerates ${plural(h.faultTolerance, 'failure')}`);
  if (h.learners > 0) parts.push(`+${plural(h.learners, 'learner')}`);
  return parts.join(sep);
}

/** The replica holding a member ID in a cluster, if any. */
export function replicaOfMember(
  status: ClusterStatus,
  cluster: EtcdClusterName,
  memberId: string,
): ReplicaView | undefined {
  return status.replicas.find((r) => r.etcd[cluster]?.memberId === memberId);
}

/** The leader as a person would name it: its replica, else its member ID. */
export function leaderName(status: ClusterStatus, cluster: EtcdClusterName): string | null {
  const id = status.etcd[cluster].leaderId;
  if (id === null) return null;
  return replicaOfMember(status, cluster, id)?.name ?? id;
}

/** Member IDs as etcdctl prints them: lower-case hex, no 0x. */
export function hexId(id: string): string {
  return id.toLowerCase().replace(/^0x/, '');
}

const SEVERITY_RANK: Record<Warning['severity'], number> = { error: 0, warning: 1 };

/** Most severe first; the model's order otherwise. */
export function sortWarnings(warnings: readonly Warning[]): Warning[] {
  return warnings
    .map((w, i) => ({ w, i }))
    .sort((a, b) => SEVERITY_RANK[a.w.severity] - SEVERITY_RANK[b.w.severity] || a.i - b.i)
    .map((x) => x.w);
}

/** Where the apiserver IP is attached, in words. */
export function apiserverAttachment(status: ClusterStatus): string {
  const ip = status.apiserverIP;
  if (!ip) return 'apiserver IP unknown (GCE not observed)';
  if (!ip.address) return 'no static apiserver IP';
  if (ip.attachedTo === 'load-balancer') {
    const lb = status.loadBalancer;
    const pool = lb ? ` (${plural(lb.instances.length, 'replica')} in pool)` : '';
    return `apiserver ${ip.address} on load balancer${lb ? ` ${lb.forwardingRule}` : ''}${pool}`;
  }
  if (ip.attachedTo) return `apiserver ${ip.address} on replica ${ip.attachedTo}`;
  return `apiserver ${ip.address} attached to nothing`;
}

/** Removes what would break a one-line layout: control characters, newlines, runs of spaces. */
export function oneLine(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
