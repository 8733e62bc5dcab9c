// What one etcd member's answer means: a state in words, never "unhealthy" for
// a member that answers with a leader. An alarm (NOSPACE, CORRUPT) stops
// writes, not raft: such a member still votes and commits, so it counts for
// quorum and its cluster is never shown as having lost it (issue 15). Pure.
import type { EtcdEndpointStatus, MemberCapacity, MemberDisk } from './types.js';

/**
 * healthy: votes and commits, nothing to say. alarm: answers with a leader,
 * but the cluster carries an alarm. slow: answers with a leader, slowly.
 * learner: a non-voting member catching up. unhealthy: answers, but sees no
 * leader. unreachable: no answer (down, frozen, never started).
 */
export type MemberState = 'healthy' | 'alarm' | 'slow' | 'learner' | 'unhealthy' | 'unreachable';

/** A Status answer slower than etcd's default election timeout (1000 ms) is slow. */
export const SLOW_STATUS_MS = 1000;
/** etcd's hardware guidance: WAL fsync p99 under 10 ms, backend commit p99 under 25 ms. */
export const SLOW_WAL_FSYNC_P99_MS = 10;
export const SLOW_BACKEND_COMMIT_P99_MS = 25;
/**
 * Committed entries not yet applied: etcd refuses new proposals past 5000
 * (maxGapBetweenApplyAndCommitIndex); a fifth of that is already a member
 * whose backend does not keep up.
 */
export const SLOW_APPLY_LAG = 1000;
/** kube-up's --quota-backend-bytes when ETCD_QUOTA_BACKEND_BYTES is unset (kube-up-reference.md §3.2). */
export const KUBE_UP_QUOTA_BACKEND_BYTES = 4 * 1024 ** 3;

/** One alarm as etcd lists it: the member that raised it and its name. */
export interface EtcdAlarm {
  /** Hex, as etcdctl prints member IDs. */
  memberId: string;
  alarm: string;
}

/**
 * Status `errors` entries are AlarmMember in protobuf text form, e.g.
 * `memberID:3319814642761637952 alarm:NOSPACE ` (etcd 3.4). Entries that are
 * not alarms are left out (they are not ours to interpret).
 */
export function parseAlarm(entry: string): EtcdAlarm | null {
  const m = /memberID:(\d+)\s+alarm:([A-Z_]+)/.exec(entry);
  if (!m) return null;
  return { memberId: BigInt(m[1]!).toString(16), alarm: m[2]! };
}

export function alarmsOf(errors: readonly string[] | undefined): EtcdAlarm[] {
  return (errors ?? []).map(parseAlarm).filter((a): a is EtcdAlarm => a !== null);
}

/** A member's alarm names: the cluster's alarms as this member reports them (each applies cluster-wide). */
export function alarmNames(errors: readonly string[] | undefined): string[] {
  return [...new Set(alarmsOf(errors).map((a) => a.alarm))].sort();
}

/** Status errors that are not alarms (kept as the member's error text). */
export function otherErrors(errors: readonly string[] | undefined): string[] {
  return (errors ?? []).filter((e) => parseAlarm(e) === null && e.trim() !== '');
}

const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

/** Why an answering member is slow, in words; empty when it is not. */
export function slowReasons(
  latencyMs: number | null | undefined,
  disk: MemberDisk | null | undefined,
  applyLag: number | null = null,
): string[] {
  const out: string[] = [];
  if (applyLag !== null && applyLag >= SLOW_APPLY_LAG) {
    out.push(`applies ${applyLag} entries behind its commit index (etcd refuses proposals past 5000)`);
  }
  if (latencyMs !== null && latencyMs !== undefined && latencyMs >= SLOW_STATUS_MS) {
    out.push(`status answered in ${ms(latencyMs)} (slow from ${ms(SLOW_STATUS_MS)})`);
  }
  if (disk?.walFsyncP99Ms != null && disk.walFsyncP99Ms > SLOW_WAL_FSYNC_P99_MS) {
    out.push(`WAL fsync p99 ${ms(disk.walFsyncP99Ms)} (etcd: under ${SLOW_WAL_FSYNC_P99_MS} ms)`);
  }
  if (disk?.backendCommitP99Ms != null && disk.backendCommitP99Ms > SLOW_BACKEND_COMMIT_P99_MS) {
    out.push(
      `backend commit p99 ${ms(disk.backendCommitP99Ms)} (etcd: under ${SLOW_BACKEND_COMMIT_P99_MS} ms)`,
    );
  }
  return out;
}

/** DB size, in use and quota; the quota from the member's metrics, else kube-up's default. */
export function capacityOf(st: EtcdEndpointStatus | undefined): MemberCapacity | null {
  if (!st?.ok || st.dbSizeBytes === undefined) return null;
  const fromMetrics = st.metrics?.quotaBackendBytes ?? null;
  return {
    dbSizeBytes: st.dbSizeBytes,
    dbSizeInUseBytes: st.dbSizeInUseBytes ?? null,
    quotaBytes: fromMetrics ?? KUBE_UP_QUOTA_BACKEND_BYTES,
    quotaFrom: fromMetrics !== null ? 'metrics' : 'kube-up default',
  };
}

export interface MemberJudgement {
  state: MemberState;
  /** Can vote and commit (a learner that answers with a leader counts as healthy, as before). */
  healthy: boolean;
  alarms: string[];
  slow: string[];
  error: string | null;
}

/**
 * The member's state from its answer. `error` is why it cannot vote and
 * commit (null when it can); an alarm or slowness never sets it.
 */
export function judgeMember(input: {
  status: EtcdEndpointStatus | undefined;
  learner: boolean;
  /** Why there is no answer to judge (not started, no endpoint known). */
  noAnswer: string | null;
}): MemberJudgement {
  const st = input.status;
  const none = (state: MemberState, error: string): MemberJudgement => ({
    state,
    healthy: false,
    alarms: [],
    slow: [],
    error,
  });
  if (input.noAnswer) return none('unreachable', input.noAnswer);
  if (!st) return none('unreachable', 'no status');
  if (!st.ok) return none('unreachable', st.error ?? 'unreachable');
  const alarms = alarmNames(st.errors);
  // raftAppliedIndex is 0 from an etcd that does not report it (before 3.4): no lag to judge.
  // A learner's lag is its catch-up, shown as such.
  const lag =
    !input.learner && st.raftAppliedIndex && st.raftIndex !== undefined
      ? st.raftIndex - st.raftAppliedIndex
      : null;
  const slow = slowReasons(st.firstCall ? null : st.latencyMs, st.metrics, lag);
  if (st.leaderId === '0')
    return { ...none('unhealthy', 'no leader visible from this member'), alarms, slow };
  // Status errors that are not alarms: reported as before, the member unhealthy.
  const other = otherErrors(st.errors);
  if (other.length) return { state: 'unhealthy', healthy: false, alarms, slow, error: other.join('; ') };
  const state: MemberState = alarms.length
    ? 'alarm'
    : slow.length
      ? 'slow'
      : input.learner
        ? 'learner'
        : 'healthy';
  return { state, healthy: true, alarms, slow, error: null };
}

/** The member's state in words: `in alarm NOSPACE`, `slow`, `learner 95% caught up`, ... */
export function memberStateWords(m: {
  state?: MemberState;
  alarms?: string[];
  healthy: boolean;
  catchUp?: { appliedIndex: number; leaderIndex: number } | null;
}): string {
  switch (m.state) {
    case 'alarm':
      return `in alarm ${(m.alarms ?? []).join(',')}`;
    case 'slow':
      return 'slow';
    case 'learner': {
      const c = m.catchUp;
      if (!c || c.leaderIndex <= 0) return 'learner';
      return `learner ${Math.min(100, Math.floor((100 * c.appliedIndex) / c.leaderIndex))}% caught up`;
    }
    case 'unhealthy':
      return 'unhealthy';
    case 'unreachable':
      return 'unreachable';
    case 'healthy':
      return 'healthy';
    default:
      return m.healthy ? 'healthy' : 'unhealthy';
  }
}
