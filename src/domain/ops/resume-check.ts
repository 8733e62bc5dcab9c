// The fresh preflight of `operation resume | rollback`: a journal records the
// cluster as it was when the operation stopped, and resuming trusts that
// record (a step marked done is not run again). Before anything runs, the
// live cluster must still be one the journal explains: the replicas the plan
// started from, give or take the one it adds or removes; what the done steps
// created or removed is still so; no other operation holds the lock; and
// every etcd cluster a remaining step changes has quorum. Pure.
import type { ClusterStatus, EtcdClusterName, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import { type Journal, resumeRecovery, rollbackRecovery } from './journal.js';
import { describeLock, type LockRecord } from './lock.js';
import type { Confirmation } from './operation.js';
import type { PlanStep } from './plan.js';
import { type CheckResult, computeReachable, etcdReachable, type PreflightContext } from './preflight.js';

export type RecoveryMode = 'resume' | 'rollback';

export interface RecoveryContext {
  /** The lock as read before taking it; null when free or when the caller holds it. */
  lock: LockRecord | null;
  now?: Date;
}

const pass = (name: string, reason: string): CheckResult => ({ name, ok: true, reason });
const fail = (name: string, reason: string): CheckResult => ({ name, ok: false, reason });

/** The steps this recovery would run, forward and undo, as plan steps. */
export function stepsToRun(j: Journal, mode: RecoveryMode): PlanStep[] {
  const rec = mode === 'resume' ? resumeRecovery(j) : rollbackRecovery(j);
  const byId = new Map(j.plan.steps.map((s) => [s.id, s]));
  return [...rec.forward, ...rec.undo].map((id) => byId.get(id)).filter((s): s is PlanStep => Boolean(s));
}

function memberOf(
  status: ClusterStatus,
  cluster: EtcdClusterName,
  memberId: string,
): ReplicaView | undefined {
  return status.replicas.find((r) => r.etcd[cluster]?.memberId === memberId);
}

/**
 * Every replica now is one the plan knows (a replica it started from, or the
 * one it adds, possibly seen only as a member the journal's facts name), and
 * every replica it started from is still there, but the one it removes.
 */
export function replicasMatch(j: Journal, status: ClusterStatus): CheckResult {
  const name = 'replicas-match-journal';
  const { plan } = j;
  const known = new Set([...plan.replicasBefore, ...(plan.add ? [plan.add.name] : [])]);
  const facts = new Set(Object.values(j.facts));
  const ours = (r: ReplicaView) =>
    known.has(r.name) ||
    ETCD_CLUSTERS.some((c) => {
      const m = r.etcd[c];
      return m !== null && (facts.has(m.memberId) || m.peerURLs.some((u) => facts.has(u)));
    });
  const unexpected = status.replicas.filter((r) => !ours(r)).map((r) => r.name);
  const now = new Set(status.replicas.map((r) => r.name));
  const missing = plan.replicasBefore.filter((n) => n !== plan.remove?.name && !now.has(n));
  if (!unexpected.length && !missing.length)
    return pass(name, `replicas now: ${[...now].join(', ') || 'none'}, as the journal explains`);
  const parts = [
    ...(unexpected.length ? [`${unexpected.join(', ')} not in the plan`] : []),
    ...(missing.length ? [`${missing.join(', ')} gone`] : []),
  ];
  return fail(
    name,
    `the cluster no longer matches operation ${j.operationId}: ${parts.join('; ')} (it started from ${plan.replicasBefore.join(', ')}${plan.add ? `, adding ${plan.add.name}` : ''}${plan.remove ? `, removing ${plan.remove.name}` : ''}): someone changed it since; check kube-ha status, and finish by hand or discard the journal`,
  );
}

/** What the done steps made so is still so: resume skips them, and builds on them. */
export function doneStepsHold(j: Journal, status: ClusterStatus): CheckResult {
  const name = 'done-steps-hold';
  const wrong: string[] = [];
  j.plan.steps.forEach((s, i) => {
    if (j.steps[i]?.status !== 'done') return;
    if (s.kind === 'instance.insert') {
      const r = status.replicas.find((x) => x.name === s.args.name);
      if (!r || r.vm.status === 'MISSING')
        wrong.push(`VM ${s.args.name} was created, and Compute has no such VM`);
    } else if (s.kind === 'etcd.add-learner' || s.kind === 'etcd.promote') {
      const id = j.facts[`member.${s.args.cluster}`];
      if (!id) return;
      const r = memberOf(status, s.args.cluster, id);
      if (!r)
        wrong.push(
          `${s.args.replica} joined etcd ${s.args.cluster} as member ${id}, which is not a member now`,
        );
      else if (s.kind === 'etcd.promote' && r.etcd[s.args.cluster]?.learner)
        wrong.push(`${s.args.replica} was promoted in etcd ${s.args.cluster}, and is a learner now`);
    } else if (s.kind === 'etcd.remove-member') {
      // Resuming past this step deletes the replica's VM: its member must really be gone.
      if (memberOf(status, s.args.cluster, s.args.memberId))
        wrong.push(
          `${s.args.replica} left etcd ${s.args.cluster} (member ${s.args.memberId}), and is a member again: resuming would delete the VM of a member`,
        );
    }
  });
  if (wrong.length)
    return fail(name, `the journal says ${wrong.join('; ')}: check kube-ha status, and finish by hand`);
  return pass(name, 'what the done steps changed is still there');
}

export function lockFree(j: Journal, ctx: RecoveryContext): CheckResult {
  const name = 'no-operation-in-flight';
  if (ctx.lock && ctx.lock.operationId !== j.operationId)
    return fail(name, `another operation holds the lock: ${describeLock(ctx.lock, ctx.now)}`);
  if (ctx.lock)
    return pass(
      name,
      `the lock is still held for this operation (${describeLock(ctx.lock, ctx.now)}): taken over once that holder is gone`,
    );
  return pass(name, 'no other console or script holds the operation lock');
}

/** Membership changes, promotions, catch-up and leader moves all need a working majority. */
export function quorumForSteps(j: Journal, status: ClusterStatus, mode: RecoveryMode): CheckResult {
  const name = 'quorum-for-steps';
  const needs = new Map<EtcdClusterName, PlanStep>();
  for (const s of stepsToRun(j, mode)) {
    if (s.kind.startsWith('etcd.')) {
      const c = (s.args as { cluster: EtcdClusterName }).cluster;
      if (!needs.has(c)) needs.set(c, s);
    }
  }
  for (const [c, s] of needs) {
    const h = status.etcd[c];
    if (h.healthyVoters < h.quorum || h.votingMembers === 0)
      return fail(
        name,
        `etcd ${c} has lost quorum (${h.healthyVoters} of ${h.votingMembers} voters healthy, ${h.quorum} needed), and "${s.title}" needs it: bring its members back first`,
      );
    if (!h.leaderId) return fail(name, `etcd ${c} has no leader, and "${s.title}" needs one`);
  }
  return pass(
    name,
    needs.size
      ? `${[...needs.keys()].map((c) => `etcd ${c}`).join(' and ')} have quorum`
      : 'no etcd change left to run',
  );
}

/** Every check of a resume or rollback against the live cluster; any failure refuses it (exit 3). */
export function recoveryChecks(
  j: Journal,
  status: ClusterStatus,
  mode: RecoveryMode,
  ctx: RecoveryContext,
): CheckResult[] {
  const pf: PreflightContext = { zonesInRegion: null, lock: null, unfinished: null };
  return [
    computeReachable(status, j.plan.request, pf),
    etcdReachable(status, j.plan.request, pf),
    lockFree(j, ctx),
    replicasMatch(j, status),
    ...(mode === 'resume' ? [doneStepsHold(j, status)] : []),
    quorumForSteps(j, status, mode),
  ];
}

export function refusalsOf(checks: CheckResult[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.reason}`);
}

/**
 * Resuming or rolling back changes the cluster on the strength of a record:
 * the operator types the operation id (scripts: --confirm ID or --yes).
 */
export function checkRecoveryConfirmation(
  operationId: string,
  given: { yes: boolean; confirm: string | null; interactiveAnswer?: string | null },
): Confirmation {
  if (given.yes) return { ok: true };
  const answer = given.confirm ?? given.interactiveAnswer ?? null;
  if (answer === null)
    return {
      ok: false,
      reason: `type ${operationId} to confirm (scripts: --confirm ${operationId} or --yes)`,
    };
  if (answer.trim() !== operationId)
    return { ok: false, reason: `'${answer.trim()}' is not ${operationId}: not confirmed` };
  return { ok: true };
}
