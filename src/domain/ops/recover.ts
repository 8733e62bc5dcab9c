// `kube-ha recover`'s diagnosis (issue 16 item 4): after etcd has lost quorum,
// is the loss TRANSIENT (enough members would come back with their data by a
// start of their stopped VMs or a reset of their hung ones) or PERMANENT (the
// data is gone: only a rebuild from a survivor's snapshot brings the cluster
// back)? Pure: fed by a status and each answering member's revision.
//
// What etcd does with a wiped member, as observed in the lab (etcd 3.4): one
// started with --initial-cluster-state=new (kube-up's first master, or a lab
// built at once) and an empty data dir asks its peers, hears it "has already
// been bootstrapped", and exits: it never answers, exactly like a hung one,
// so only the operator (--from) or a reset that did not help can tell. One
// started with `existing` (a replica kube-ha or kube-up added) joins with an
// empty log and answers Status with raft index 0: that one is diagnosed.
import { quorumOf } from '../quorum.js';
import type { ClusterStatus, EtcdClusterName, MemberView, ReplicaView, VmStatus } from '../types.js';
import { quorumHeld } from './plan-remedy.js';

export type MemberCondition =
  /** It answers Status with its data (without quorum: no leader). */
  | 'answering'
  /** It answers with raft index 0: it came back with an empty data dir, its data is gone. */
  | 'data-lost'
  /** Its VM is RUNNING and it does not answer: hung (or wiped, which looks the same): reset. */
  | 'hung'
  /** Its VM is TERMINATED or STOPPED: start it, its disks were kept. */
  | 'stopped'
  /** No VM: nothing to bring back. */
  | 'missing'
  /** Its VM is on its way somewhere (STAGING, STOPPING...): wait and look again. */
  | 'settling';

export interface MemberDiagnosis {
  replica: string;
  zone: string | null;
  /** null when the member list could not be read (no member answered it). */
  memberId: string | null;
  vm: VmStatus;
  answers: boolean;
  /** The store's revision the member reports (its Status header); null when it does not answer. */
  revision: string | null;
  raftTerm: number | null;
  raftIndex: number | null;
  /** It answers and sees no leader (leader 0). */
  leaderless: boolean;
  condition: MemberCondition;
  /** The remedy that brings it back with its data, when there is one. */
  remedy: 'start' | 'reset' | null;
  /** The condition in words. */
  note: string;
}

export interface ClusterDiagnosis {
  cluster: EtcdClusterName;
  quorum: boolean;
  voters: number;
  needed: number;
  members: MemberDiagnosis[];
  /** Members that answer with their data now. */
  answering: number;
  /** Members a start or reset would bring back with their data (if their data is really there). */
  recoverable: number;
}

export type RecoverVerdict =
  /** Both clusters asked about have quorum: nothing to recover. */
  | 'nothing'
  /** Starts and resets bring quorum back: the remedies, in order. */
  | 'transient'
  /** A rebuild from --from's member. */
  | 'permanent'
  /** Data lost and no --from: the operator must choose the survivor to rebuild from. */
  | 'choose'
  /**
   * Not enough is known to tell: a silent member's VM status is unknown (Compute
   * has not answered yet) or changing. Never taken for data gone: look again.
   */
  | 'wait';

export interface Remedy {
  kind: 'start' | 'reset';
  replica: string;
  why: string;
}

/** A surviving member, as the choice of what to rebuild from shows it. */
export interface Survivor {
  cluster: EtcdClusterName;
  replica: string;
  memberId: string;
  revision: string | null;
  raftTerm: number | null;
  raftIndex: number | null;
  /** Revisions behind the most advanced survivor of the same cluster (what a restore from it loses). */
  behind: number | null;
}

export interface RecoverDiagnosis {
  verdict: RecoverVerdict;
  clusters: ClusterDiagnosis[];
  /** Only those without quorum are recovered. */
  lost: EtcdClusterName[];
  remedies: Remedy[];
  survivors: Survivor[];
  /** --from, when given and usable. */
  from: string | null;
  /** Why the verdict, in lines. */
  reasons: string[];
  /** Refusals: a --from that cannot be used, nothing to recover. Empty when the flow may go on. */
  refusals: string[];
}

export interface RecoverOptions {
  clusters: EtcdClusterName[];
  /** The replica whose member the rebuild starts from: the operator says the others' data is gone. */
  from: string | null;
  /** Revision per cluster per replica name, for the members that answered (their Status header). */
  revisions: Partial<Record<EtcdClusterName, Record<string, string>>>;
}

const SETTLING = new Set(['PROVISIONING', 'STAGING', 'STOPPING', 'SUSPENDING', 'REPAIRING']);

const answered = (m: MemberView) => m.raftIndex !== null && m.state !== 'unreachable';

function diagnoseMember(r: ReplicaView, m: MemberView | null, revision: string | null): MemberDiagnosis {
  const base = {
    replica: r.name,
    zone: r.zone,
    memberId: m?.memberId ?? null,
    vm: r.vm.status,
    revision: null as string | null,
    raftTerm: m?.raftTerm ?? null,
    raftIndex: m?.raftIndex ?? null,
  };
  if (m && answered(m)) {
    const leaderless = !m.healthy && !m.leader;
    if (m.raftIndex === 0)
      return {
        ...base,
        answers: true,
        leaderless,
        condition: 'data-lost',
        remedy: null,
        note: 'answers with raft index 0: it restarted with an empty data dir, its data is gone',
      };
    return {
      ...base,
      revision,
      answers: true,
      leaderless,
      condition: 'answering',
      remedy: null,
      note: `answers: revision ${revision ?? '?'}, term ${m.raftTerm ?? '?'}, index ${m.raftIndex}${m.healthy ? '' : ', no leader'}`,
    };
  }
  const s = r.vm.status;
  const common = { ...base, answers: false, leaderless: false };
  if (s === 'TERMINATED' || s === 'STOPPED')
    return {
      ...common,
      condition: 'stopped',
      remedy: 'start',
      note: `VM ${s}: kube-ha start brings it back with its disks`,
    };
  if (s === 'RUNNING')
    return {
      ...common,
      condition: 'hung',
      remedy: 'reset',
      note: `VM RUNNING, member not answering (${m?.error ?? 'no answer'}): hung, or its data is gone (a wiped member that was bootstrapped with the cluster exits at once): kube-ha reset tells`,
    };
  if (s === 'MISSING')
    return { ...common, condition: 'missing', remedy: null, note: 'no VM: nothing to bring back' };
  if (SETTLING.has(s))
    return {
      ...common,
      condition: 'settling',
      remedy: null,
      note: `VM ${s}: changing state, look again once it settles`,
    };
  return { ...common, condition: 'settling', remedy: null, note: `VM ${s}: not started or reset by recover` };
}

function diagnoseCluster(
  status: ClusterStatus,
  cluster: EtcdClusterName,
  revisions: Record<string, string>,
): ClusterDiagnosis {
  const known = status.replicas.some((r) => r.etcd[cluster]);
  // No member list (no member answered it): every replica with a VM is taken for a voter.
  const rows = status.replicas
    .filter((r) => (known ? r.etcd[cluster] && !r.etcd[cluster]!.learner : r.vm.status !== 'MISSING'))
    .map((r) => diagnoseMember(r, r.etcd[cluster], revisions[r.name] ?? null));
  const voters = rows.length;
  const needed = quorumOf(voters);
  const answering = rows.filter((m) => m.condition === 'answering').length;
  const recoverable = rows.filter((m) => m.remedy !== null).length;
  return {
    cluster,
    quorum: quorumHeld(status, cluster),
    voters,
    needed,
    members: rows,
    answering,
    recoverable,
  };
}

/** Survivors of each lost cluster, with how far each is behind the most advanced one. */
function survivorsOf(clusters: ClusterDiagnosis[]): Survivor[] {
  const out: Survivor[] = [];
  for (const c of clusters) {
    if (c.quorum) continue;
    const alive = c.members.filter((m) => m.condition === 'answering' && m.memberId);
    const revs = alive.map((m) => (m.revision === null ? null : Number(m.revision)));
    const known = revs.filter((x): x is number => x !== null && Number.isFinite(x));
    const top = known.length ? Math.max(...known) : null;
    alive.forEach((m, i) => {
      const rev = revs[i] ?? null;
      out.push({
        cluster: c.cluster,
        replica: m.replica,
        memberId: m.memberId!,
        revision: m.revision,
        raftTerm: m.raftTerm,
        raftIndex: m.raftIndex,
        behind: top !== null && rev !== null ? top - rev : null,
      });
    });
  }
  return out;
}

/** The diagnosis: never throws; refusals say why the flow cannot go on. */
export function diagnoseRecovery(status: ClusterStatus, o: RecoverOptions): RecoverDiagnosis {
  const clusters = o.clusters.map((c) => diagnoseCluster(status, c, o.revisions[c] ?? {}));
  const lost = clusters.filter((c) => !c.quorum).map((c) => c.cluster);
  const survivors = survivorsOf(clusters);
  const reasons: string[] = [];
  const refusals: string[] = [];
  const base = { clusters, lost, survivors, remedies: [] as Remedy[], from: null as string | null };
  if (lost.length === 0) {
    const names = o.clusters.map((c) => `etcd ${c}`).join(' and ');
    return {
      ...base,
      verdict: 'nothing',
      reasons: [`${names} ${o.clusters.length > 1 ? 'have' : 'has'} quorum`],
      refusals: [
        `nothing to recover: ${names} ${o.clusters.length > 1 ? 'have' : 'has'} quorum (a sick replica: kube-ha reset | start | replace)`,
      ],
    };
  }

  if (o.from !== null) {
    // The operator says the data is gone: rebuild from this replica's member in every lost cluster.
    const r = status.replicas.find((x) => x.name === o.from);
    if (!r)
      refusals.push(
        `--from ${o.from}: no such replica (replicas: ${status.replicas.map((x) => x.name).join(', ') || 'none'})`,
      );
    for (const c of clusters.filter((x) => !x.quorum)) {
      const m = c.members.find((x) => x.replica === o.from);
      if (r && (!m || m.condition !== 'answering'))
        refusals.push(
          `--from ${o.from}: its etcd ${c.cluster} member ${m ? `does not answer with its data (${m.note})` : 'is not a voter'}: rebuild from a member that answers (${
            survivors
              .filter((s) => s.cluster === c.cluster)
              .map((s) => s.replica)
              .join(', ') || 'none answers'
          })`,
        );
    }
    const behind = survivors.filter((s) => s.replica === o.from && (s.behind ?? 0) > 0);
    for (const s of behind)
      reasons.push(
        `etcd ${s.cluster}: ${o.from} is ${s.behind} revisions behind the most advanced survivor: those writes are lost by rebuilding from it`,
      );
    reasons.push(
      `rebuild ${lost.map((c) => `etcd ${c}`).join(' and ')} from ${o.from}'s member${lost.length > 1 ? 's' : ''} (the operator says the others' data is gone)`,
    );
    return { ...base, verdict: 'permanent', from: refusals.length ? null : o.from, reasons, refusals };
  }

  // Transient when, in every lost cluster, the members that answer plus those a start/reset brings back make a quorum.
  const transient = clusters.filter((c) => !c.quorum).every((c) => c.answering + c.recoverable >= c.needed);
  for (const c of clusters.filter((x) => !x.quorum)) {
    const lostData = c.members.filter((m) => m.condition === 'data-lost' || m.condition === 'missing');
    reasons.push(
      `etcd ${c.cluster}: ${c.answering} of ${c.voters} voters answer with their data, ${c.needed} needed; ${c.recoverable} would come back by a start or reset${lostData.length ? `; data gone: ${lostData.map((m) => m.replica).join(', ')}` : ''}`,
    );
  }
  // A VM whose status is not known (or changing) may well come back by a start or reset:
  // until it is known, the loss is not called permanent.
  const unsettled = clusters
    .filter((c) => !c.quorum)
    .flatMap((c) => c.members.filter((m) => m.condition === 'settling'));
  if (!transient && unsettled.length) {
    const vms = [...new Map(unsettled.map((m) => [m.replica, `${m.replica} ${m.vm}`])).values()];
    refusals.push(
      `not known yet whether a start or reset brings quorum back: VM ${vms.join(', ')} (Compute has not answered, or the VM is changing state): look again in a moment`,
    );
    return { ...base, verdict: 'wait', reasons, refusals };
  }
  if (!transient) {
    refusals.push(
      `not enough members can come back with their data: rebuild from a survivor: kube-ha recover --from REPLICA (${[...new Set(survivors.map((s) => s.replica))].join(', ') || 'no member answers'})`,
    );
    return { ...base, verdict: 'choose', reasons, refusals };
  }
  // One replica at a time: stopped VMs first (a start cannot hurt a running member), then hung ones.
  const byReplica = new Map<string, Remedy>();
  for (const c of clusters.filter((x) => !x.quorum))
    for (const m of c.members)
      if (m.remedy && !byReplica.has(m.replica))
        byReplica.set(m.replica, { kind: m.remedy, replica: m.replica, why: m.note });
  const remedies = [...byReplica.values()].sort(
    (a, b) => (a.kind === b.kind ? 0 : a.kind === 'start' ? -1 : 1) || a.replica.localeCompare(b.replica),
  );
  return { ...base, verdict: 'transient', remedies, reasons, refusals };
}

/** The diagnosis as lines for people (the CLI, the console's QUORUM LOST screen). */
export function renderDiagnosis(d: RecoverDiagnosis): string[] {
  const lines: string[] = [];
  for (const c of d.clusters) {
    lines.push(
      `etcd ${c.cluster}: ${c.quorum ? 'has quorum' : `QUORUM LOST (${c.answering} of ${c.voters} voters answer with their data, ${c.needed} needed)`}`,
    );
    if (c.quorum) continue;
    for (const m of c.members) {
      lines.push(
        `  ${m.replica.padEnd(24)} ${m.vm.padEnd(10)} ${(m.memberId ?? '?').padEnd(16)} ${m.condition.toUpperCase().padEnd(9)} ${m.note}`,
      );
    }
  }
  const verdict: Record<RecoverVerdict, string> = {
    nothing: 'nothing to recover',
    transient: "TRANSIENT: quorum comes back with the members' own data",
    permanent: `PERMANENT: rebuild from ${d.from ?? '?'}`,
    choose: 'PERMANENT (data gone): choose the member to rebuild from',
    wait: 'NOT KNOWN YET: a VM status is unknown or changing',
  };
  lines.push(`diagnosis: ${verdict[d.verdict]}`);
  for (const r of d.reasons) lines.push(`  ${r}`);
  if (d.verdict === 'transient') {
    lines.push('remedy, one replica at a time, each waited for:');
    for (const [i, r] of d.remedies.entries())
      lines.push(`  ${i + 1}. kube-ha ${r.kind} --replica ${r.replica}`);
  }
  if ((d.verdict === 'choose' || d.verdict === 'permanent') && d.survivors.length) {
    lines.push('surviving members (a rebuild keeps what the chosen one has, and loses what it lacks):');
    for (const s of d.survivors)
      lines.push(
        `  etcd ${s.cluster.padEnd(6)} ${s.replica.padEnd(24)} revision ${s.revision ?? '?'} term ${s.raftTerm ?? '?'} index ${s.raftIndex ?? '?'}${s.behind === null ? '' : s.behind === 0 ? ' (most advanced)' : ` (${s.behind} revisions behind: lost if rebuilt from it)`}`,
      );
  }
  return lines;
}
