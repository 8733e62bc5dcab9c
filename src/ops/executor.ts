// Runs a plan: takes the cluster-wide lock, checks again on a fresh look that
// the plan still holds, then runs the steps one by one, journaling each
// (run.ts). On a failed step or a cancel (checked between steps and inside
// waits) it rolls back as the journal's pure recovery decides (rollback.ts);
// what cannot be rolled back is reported with how to finish by hand.
import { hostname, userInfo } from 'node:os';
import { urlHost } from '../domain/names.js';
import {
  isFinished,
  type Journal,
  newJournal,
  resumeRecovery,
  rollbackRecovery,
} from '../domain/ops/journal.js';
import type { OperationHolder } from '../domain/ops/lock.js';
import { describeLock, JOURNAL_PREFIX, type LockRecord } from '../domain/ops/lock.js';
import { planOperation } from '../domain/ops/operation.js';
import type { Plan } from '../domain/ops/plan.js';
import { stopsOnFailure } from '../domain/ops/plan-defrag.js';
import { describeLockPlace } from '../domain/ops/plan-remedy.js';
import { type RecoveryMode, recoveryChecks, refusalsOf } from '../domain/ops/resume-check.js';
import type { ClusterStatus } from '../domain/types.js';
import { describeError } from './compute-ops.js';
import { acquireDefragLock } from './defrag-lock.js';
import type { LiveMember } from './etcd-ops.js';
import type { OpResult } from './events.js';
import { acquireLock, type HeldLock } from './lock.js';
import { remedyLockTaker } from './remedy-lock.js';

import { rollBack } from './rollback.js';
import {
  type ExecDeps,
  type ExecOptions,
  emit,
  journalled,
  type Run,
  refused,
  result,
  runStep,
  StepFailed,
  save,
} from './run.js';

export type { ExecDeps, ExecOptions } from './run.js';

export function defaultHolder(tool: string): OperationHolder {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { user, host: hostname(), pid: process.pid, tool };
}

/**
 * The fresh preflight of a resume or rollback, under the lock: the live
 * cluster must still be one the journal explains (src/domain/ops/resume-check.ts).
 */
async function recoveryRefusals(deps: ExecDeps, journal: Journal, mode: RecoveryMode): Promise<string[]> {
  let status: ClusterStatus;
  try {
    status = await deps.observe();
  } catch (e) {
    return [`cannot observe the cluster: ${describeError(e)}`];
  }
  return refusalsOf(recoveryChecks(journal, status, mode, { lock: null }));
}

async function forward(run: Run, ids: string[]): Promise<void> {
  for (const id of ids) {
    if (run.opts.signal?.aborted) throw new StepFailed(id, 'cancelled by the operator', true);
    if (run.lock.lost())
      throw new StepFailed(id, `the operation lock was lost: ${run.lock.lostReason()}`, false);
    await runStep(run, id, 'forward');
    // Other machines see the operation step by step (bounded: the local journal is the record).
    await run.deps.store.flush();
  }
}

/** Replicas the lock must not be held through: the one leaving (its member goes away). */
function lockExclusion(plan: Plan): (m: LiveMember) => boolean {
  // A reset takes its replica's members down: keepalives must not go through them either.
  const leaving = plan.remove?.name ?? plan.remedy?.replica;
  if (!leaving) return () => false;
  return (m) =>
    m.name === `etcd-${leaving}` || [...m.peerURLs, ...m.clientURLs].some((u) => urlHost(u) === leaving);
}

async function takeLock(
  deps: ExecDeps,
  plan: Plan,
  opts: ExecOptions,
): Promise<{ ok: true; lock: HeldLock } | { ok: false; reason: string }> {
  const record: LockRecord = {
    operationId: plan.operationId,
    kind: plan.kind,
    summary: plan.summary,
    holder: deps.holder,
    since: new Date().toISOString(),
  };
  const log = (line: string) => opts.onEvent?.({ type: 'call', line, at: Date.now() });
  // reset / start where etcd main has no quorum: the lock's fallback (plan-remedy.ts, LockPlace).
  const fallback = deps.acquireLock ? null : remedyLockTaker(plan, deps.etcd.events, deps.store.dir);
  try {
    const got = fallback
      ? await fallback(record, log, lockExclusion(plan))
      : deps.acquireLock
        ? await deps.acquireLock(record, log, lockExclusion(plan))
        : plan.kind === 'defrag'
          ? await acquireDefragLock(deps.etcd, record, log, lockExclusion(plan))
          : await acquireLock(deps.etcd.main, record, log, lockExclusion(plan));
    if (got.ok) return got;
    return { ok: false, reason: `another operation holds the lock: ${describeLock(got.holder)}` };
  } catch (err) {
    return { ok: false, reason: `cannot take the operation lock: ${describeError(err)}` };
  }
}

function sameReplicas(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/** Runs steps (forward), and on failure or cancel rolls back; shared by execute and resume. */
async function drive(run: Run, ids: string[]): Promise<OpResult> {
  try {
    await forward(run, ids);
    save(run, { ...run.journal, state: 'done', updatedAt: new Date().toISOString() });
    return result(run, 'done', []);
  } catch (err) {
    const failure = err instanceof StepFailed ? err : new StepFailed('?', describeError(err), false);
    if (stopsOnFailure(run.journal.plan) && !failure.cancelled) return stop(run, failure);
    save(run, {
      ...run.journal,
      state: 'rolling-back',
      error: failure.message,
      updatedAt: new Date().toISOString(),
    });
    const rec = rollbackRecovery(run.journal);
    emit(run, { type: 'note', message: `rolling back: ${rec.note}`, at: Date.now() });
    return await rollBack(run, rec, [failure.message], failure.cancelled);
  }
}

/**
 * A plan with nothing to roll back (a defrag) stops at its failed step: the
 * journal stays open, and `operation resume` runs what is left once the cause
 * (a member down, stale leases, the lock lost) is dealt with.
 */
function stop(run: Run, failure: StepFailed): OpResult {
  save(run, { ...run.journal, state: 'failed', error: failure.message, updatedAt: new Date().toISOString() });
  return result(run, 'failed', [
    failure.message,
    'stopped there: nothing is rolled back (compaction and defragmentation change no data); what is left waits for kube-ha operation resume',
  ]);
}

async function withLock(
  deps: ExecDeps,
  journalOrPlan: { plan: Plan; journal: Journal | null },
  opts: ExecOptions,
  mode: 'run' | 'resume' | 'rollback',
  body: (run: Run) => Promise<OpResult>,
): Promise<OpResult> {
  const started = Date.now();
  const { plan } = journalOrPlan;
  const unsubscribe = deps.subscribeCalls((line) => opts.onEvent?.({ type: 'call', line, at: Date.now() }));
  try {
    const lock = await takeLock(deps, plan, opts);
    if (!lock.ok) {
      const res = refused(plan.summary, [lock.reason], started, plan.operationId);
      opts.onEvent?.({ type: 'operation-end', result: res, at: Date.now() });
      return res;
    }
    const run: Run = {
      journal: journalOrPlan.journal ?? newJournal(plan, deps.holder),
      deps,
      opts,
      lock: lock.lock,
      started,
      timings: [],
    };
    try {
      emit(run, {
        type: 'operation-start',
        operationId: plan.operationId,
        summary: plan.summary,
        mode,
        at: started,
      });
      let res = await body(run);
      if (!(await deps.store.flush()))
        res = {
          ...res,
          reasons: [
            ...res.reasons,
            `the copy of the journal in etcd (${JOURNAL_PREFIX}${plan.operationId}) could not be updated: ${deps.store.remoteWriteProblem() ?? 'no answer in time'}; other machines may see an old state of this operation`,
          ],
        };
      // Said again at the end: what the lock did not keep out while it ran.
      const place = plan.remedy?.lockPlace;
      if (place && place !== 'main' && res.outcome !== 'refused')
        res = { ...res, reasons: [...res.reasons, describeLockPlace(place)] };
      emit(run, { type: 'operation-end', result: res, at: Date.now() });
      return res;
    } finally {
      await lock.lock.release();
    }
  } finally {
    unsubscribe();
  }
}

/**
 * Executes a plan made by planOperation (and shown to the operator). Under the
 * lock the preflight runs again on a fresh observation: if anything now
 * refuses, or the replicas changed, nothing is done (exit 3).
 */
export async function executePlan(plan: Plan, deps: ExecDeps, opts: ExecOptions = {}): Promise<OpResult> {
  return withLock(deps, { plan, journal: null }, opts, 'run', async (run) => {
    const [status, zones] = await Promise.all([
      deps.observe(),
      deps.zonesInRegion().catch(() => null),
      // Operations started on other machines: their journals in etcd.
      deps.store.refresh(),
    ]);
    const fresh = planOperation(status, plan.request, {
      zonesInRegion: zones,
      lock: null,
      // The open operation and the unreadable journals, read again under the lock.
      ...deps.store.preflightContext(),
    });
    const reasons = [...fresh.refusals];
    const place = plan.remedy?.lockPlace;
    const freshPlace = fresh.plan?.remedy?.lockPlace;
    if (place && freshPlace && place !== freshPlace)
      reasons.push(
        `etcd's quorum changed since the plan was made (the lock belongs in ${freshPlace}, not ${place}): plan again`,
      );
    if (
      !sameReplicas(
        plan.replicasBefore,
        status.replicas.map((r) => r.name),
      )
    ) {
      reasons.push(
        `the replicas changed since the plan was made (${plan.replicasBefore.join(', ')} → ${status.replicas.map((r) => r.name).join(', ')}): plan again`,
      );
    }
    if (reasons.length) return refused(plan.summary, reasons, run.started, plan.operationId);
    return journalled(run, async () => {
      save(run, run.journal);
      return drive(
        run,
        plan.steps.map((s) => s.id),
      );
    });
  });
}

/**
 * A resume or rollback of an unfinished journal: under the lock, the fresh
 * recovery checks first; then the journal is taken over (state, holder) and
 * `body` runs what is left.
 */
async function recoverOperation(
  journal: Journal,
  deps: ExecDeps,
  opts: ExecOptions,
  mode: RecoveryMode,
  body: (run: Run) => Promise<OpResult>,
): Promise<OpResult> {
  if (isFinished(journal)) throw new Error(`operation ${journal.operationId} is already ${journal.state}`);
  return withLock(deps, { plan: journal.plan, journal }, opts, mode, async (run) => {
    const refusals = await recoveryRefusals(deps, journal, mode);
    if (refusals.length) return refused(journal.plan.summary, refusals, run.started, journal.operationId);
    return journalled(run, async () => {
      save(run, {
        ...run.journal,
        state: mode === 'resume' ? 'running' : 'rolling-back',
        holder: deps.holder,
        updatedAt: new Date().toISOString(),
      });
      return body(run);
    });
  });
}

/** `kube-ha operation resume`: runs what the unfinished journal has left, rolling back if a step fails. */
export async function resumeOperation(
  journal: Journal,
  deps: ExecDeps,
  opts: ExecOptions = {},
): Promise<OpResult> {
  return recoverOperation(journal, deps, opts, 'resume', (run) =>
    drive(run, resumeRecovery(run.journal).forward),
  );
}

/** `kube-ha operation rollback`: undoes what the unfinished journal did (finishing past a point of no return). */
export async function rollbackOperation(
  journal: Journal,
  deps: ExecDeps,
  opts: ExecOptions = {},
): Promise<OpResult> {
  return recoverOperation(journal, deps, opts, 'rollback', async (run) => {
    const rec = rollbackRecovery(run.journal);
    emit(run, { type: 'note', message: `rolling back: ${rec.note}`, at: Date.now() });
    const res = await rollBack(run, rec, [], false);
    // Asked for a rollback and got one: that is success.
    return res.outcome === 'rolled-back' ? { ...res, outcome: 'done', exitCode: 0 } : res;
  });
}
