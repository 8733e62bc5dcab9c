// Runs a plan: takes the cluster-wide lock, checks again on a fresh look that
// the plan still holds, then runs the steps one by one, journaling each. On a
// failed step or a cancel (checked between steps and inside waits) it rolls
// back as the journal's pure recovery decides; what cannot be rolled back is
// reported with how to finish by hand.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { urlHost } from '../domain/names.js';
import {
  isFinished,
  type Journal,
  leftovers,
  newJournal,
  type Recovery,
  resumeRecovery,
  rollbackRecovery,
  type StepRecord,
  updateStep,
} from '../domain/ops/journal.js';
import { stepsTaken } from '../domain/ops/journal-report.js';
import type { OperationHolder } from '../domain/ops/lock.js';
import { describeLock, JOURNAL_PREFIX, type LockRecord } from '../domain/ops/lock.js';
import { planOperation } from '../domain/ops/operation.js';
import type { Plan, PlanStep } from '../domain/ops/plan.js';
import { stopsOnFailure } from '../domain/ops/plan-defrag.js';
import { describeLockPlace } from '../domain/ops/plan-remedy.js';
import { type RecoveryMode, recoveryChecks, refusalsOf } from '../domain/ops/resume-check.js';
import type { ClusterStatus, EtcdClusterName } from '../domain/types.js';
import type { RequestIdBook, RunnerCompute } from './compute-ops.js';
import { describeError } from './compute-ops.js';
import { acquireDefragLock } from './defrag-lock.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';
import type { OnEvent, OpResult, StepMode } from './events.js';
import { failpoint } from './failpoints.js';
import { type JournalStore, JournalWriteError } from './journal-store.js';
import { acquireLock, type HeldLock, type LockAttempt } from './lock.js';
import { remedyLockTaker } from './remedy-lock.js';
import { CancelledError, type RunContext, runnerFor, type Timing } from './runners.js';

export interface ExecDeps {
  compute: RunnerCompute;
  etcd: Record<EtcdClusterName, EtcdOps>;
  store: JournalStore;
  /** A fresh observation of the whole cluster. */
  observe(): Promise<ClusterStatus>;
  zonesInRegion(): Promise<string[] | null>;
  holder: OperationHolder;
  timing: Timing;
  apiserverProbe: RunContext['apiserverProbe'];
  /** Where the snapshot before a change is saved; absent or null: none is taken. */
  snapshotDir?: string | null;
  /** Where Compute and etcd calls are reported while a plan runs (the session's call log). */
  subscribeCalls(listener: (line: string) => void): () => void;
  /** How the lock is taken; default acquireLock on etcd main (tests give a lock they can lose). */
  acquireLock?: (
    record: LockRecord,
    log: (line: string) => void,
    exclude: (m: LiveMember) => boolean,
  ) => Promise<LockAttempt>;
}

export interface ExecOptions {
  onEvent?: OnEvent;
  /** Aborting cancels: between steps, or inside a wait, then the steps taken are rolled back. */
  signal?: AbortSignal;
}

export function defaultHolder(tool: string): OperationHolder {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { user, host: hostname(), pid: process.pid, tool };
}

class StepFailed extends Error {
  constructor(
    readonly stepId: string,
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
  }
}

interface Run {
  journal: Journal;
  deps: ExecDeps;
  opts: ExecOptions;
  lock: HeldLock;
  started: number;
  timings: OpResult['timings'];
}

function emit(run: Run, e: Parameters<OnEvent>[0]): void {
  try {
    run.opts.onEvent?.(e);
  } catch {
    // a broken listener must not break the operation
  }
}

/** Runs whose journal write failed: every later save fails at once, so that nothing more changes. */
const unjournalled = new WeakMap<Run, JournalWriteError>();

/**
 * Every step is journalled before and after it runs: a write that fails
 * stops the operation at once (no rollback either, since its steps could not
 * be recorded); the in-memory journal says what was done and what is left.
 */
function save(run: Run, j: Journal): void {
  // After a failed write the in-memory journal stays as it was when the write failed: what a
  // runner had done is not overwritten by the failure bookkeeping that follows.
  const broken = unjournalled.get(run);
  if (broken) throw broken;
  run.journal = j;
  try {
    run.deps.store.write(j);
  } catch (e) {
    const err =
      e instanceof JournalWriteError
        ? e
        : new JournalWriteError(
            `cannot write the journal ${run.deps.store.path(j.operationId)}: ${e instanceof Error ? e.message : String(e)}`,
          );
    unjournalled.set(run, err);
    throw err;
  }
}

/** A body whose journal write failed ends here: refused when nothing had started, failed (exit 1) otherwise. */
async function journalled(run: Run, body: () => Promise<OpResult>): Promise<OpResult> {
  // Step records are replaced, never mutated: the same array means no step was touched in this run.
  const stepsAtStart = run.journal.steps;
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof JournalWriteError)) throw e;
    const j = run.journal;
    if (j.steps === stepsAtStart)
      return refused(j.plan.summary, [`${e.message}: nothing was changed`], run.started, j.operationId);
    const taken = stepsTaken(j);
    return result(run, 'failed', [
      `stopped: ${e.message}; nothing more was changed, and no rollback was tried (it could not be recorded)`,
      ...(taken.length ? taken : ['no step changed anything']),
    ]);
  }
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

function stepOf(plan: Plan, id: string): { step: PlanStep; index: number } {
  const index = plan.steps.findIndex((s) => s.id === id);
  const step = plan.steps[index];
  if (!step) throw new Error(`plan has no step ${id}`);
  return { step, index };
}

/**
 * What stops a step's waits and further changes: the operator's cancel
 * (forward only; a rollback passes none) and the loss of the lock, whose
 * signal is fresh after a re-acquire.
 */
function stepSignal(run: Run): AbortSignal {
  const cancel = run.opts.signal;
  return cancel ? AbortSignal.any([cancel, run.lock.signal]) : run.lock.signal;
}

/** A step's request IDs, kept in its journal record before each call is sent (see RequestIdBook). */
function requestIdBook(run: Run, id: string, mode: StepMode): RequestIdBook {
  const ids = () => run.journal.steps.find((s) => s.id === id)?.requestIds ?? {};
  const key = (call: string) => `${mode}: ${call}`;
  return {
    idFor(call) {
      const kept = ids()[key(call)];
      if (kept) return kept;
      const fresh = randomUUID();
      patch(run, id, { requestIds: { ...ids(), [key(call)]: fresh } });
      return fresh;
    },
    spend(call) {
      const { [key(call)]: _spent, ...rest } = ids();
      if (_spent) patch(run, id, { requestIds: rest });
    },
  };
}

function context(run: Run, step: PlanStep, mode: StepMode): RunContext {
  const facts = run.journal.facts;
  return {
    plan: run.journal.plan,
    compute: run.deps.compute.withRequestIds(requestIdBook(run, step.id, mode)),
    etcd: run.deps.etcd,
    // Runners write facts; the journal is saved after each step with them.
    facts,
    timing: run.deps.timing,
    signal: stepSignal(run),
    observe: run.deps.observe,
    apiserverProbe: run.deps.apiserverProbe,
    snapshotDir: run.deps.snapshotDir ?? null,
    note: (message) => emit(run, { type: 'note', message, at: Date.now() }),
    progress: (current, target, message) =>
      emit(run, { type: 'progress', stepId: step.id, current, target, message, at: Date.now() }),
  };
}

function patch(run: Run, id: string, p: Partial<StepRecord>): void {
  save(run, updateStep(run.journal, id, p));
}

async function runStep(run: Run, id: string, mode: StepMode): Promise<void> {
  const { step, index } = stepOf(run.journal.plan, id);
  const runner = runnerFor(step);
  const t0 = Date.now();
  emit(run, { type: 'step-start', step, index, mode, at: t0 });
  const end = (
    status: 'done' | 'skipped' | 'failed' | 'undone' | 'undo-failed',
    note?: string,
    error?: string,
  ) => {
    const elapsedMs = Date.now() - t0;
    run.timings.push({ id, mode, ms: elapsedMs, status });
    emit(run, {
      type: 'step-end',
      step,
      index,
      mode,
      status,
      elapsedMs,
      at: Date.now(),
      ...(note ? { note } : {}),
      ...(error ? { error } : {}),
    });
  };
  const ctx = context(run, step, mode);
  failpoint('before', id, mode === 'undo' ? 'undo' : 'forward');
  if (mode === 'forward') {
    patch(run, id, { status: 'running', startedAt: new Date(t0).toISOString() });
    try {
      const out = await runner.run(step, ctx);
      const status = out.skipped ? 'skipped' : 'done';
      patch(run, id, { status, endedAt: new Date().toISOString(), ...(out.note ? { note: out.note } : {}) });
      failpoint('after', id, 'forward');
      end(status, out.note);
    } catch (err) {
      // A wait cut short by the lock's loss is that loss, not the operator's cancel.
      const lockLost = err instanceof CancelledError && run.lock.lost();
      const cancelled = err instanceof CancelledError && !lockLost;
      const message = lockLost
        ? `the operation lock was lost: ${run.lock.lostReason()}`
        : cancelled
          ? 'cancelled'
          : describeError(err);
      let applied: boolean | undefined;
      try {
        if (runner.absent && (await runner.absent(step, ctx))) applied = false;
      } catch {
        // could not tell: count it as possibly applied
      }
      patch(run, id, {
        status: 'failed',
        endedAt: new Date().toISOString(),
        error: message,
        ...(applied === false ? { applied: false } : {}),
      });
      end('failed', undefined, message);
      throw new StepFailed(id, `${step.title}: ${message}`, cancelled);
    }
    return;
  }
  patch(run, id, { status: 'undoing' });
  try {
    const out = runner.undo ? await runner.undo(step, ctx) : { note: 'nothing to undo' };
    patch(run, id, {
      status: 'undone',
      endedAt: new Date().toISOString(),
      ...(out.note ? { note: out.note } : {}),
    });
    failpoint('after', id, 'undo');
    end('undone', out.note);
  } catch (err) {
    const message = describeError(err);
    patch(run, id, { status: 'undo-failed', error: message });
    end('undo-failed', undefined, message);
    throw new StepFailed(id, `undo of ${step.title}: ${message}`, false);
  }
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

/**
 * A rollback goes on only under the lock: lost, it is taken again (nobody else
 * can have started since, or the re-acquire fails), or the rollback stops here
 * with nothing more changed and what is left printed.
 */
async function ensureLock(run: Run, id: string): Promise<void> {
  if (!run.lock.lost()) return;
  const why = run.lock.lostReason();
  emit(run, {
    type: 'note',
    message: `the operation lock was lost (${why}): taking it again`,
    at: Date.now(),
  });
  const again = await run.lock.reacquire();
  if (!again.ok)
    throw new StepFailed(
      id,
      `the operation lock was lost (${why}) and cannot be taken again: ${again.reason}; nothing more was changed`,
      false,
    );
}

/** One rollback step under the lock; a step cut short by the lock's loss runs again once it is retaken. */
async function lockedStep(run: Run, id: string, mode: StepMode): Promise<void> {
  await ensureLock(run, id);
  try {
    await runStep(run, id, mode);
  } catch (err) {
    if (!run.lock.lost()) throw err;
    await ensureLock(run, id);
    await runStep(run, id, mode);
  }
  await run.deps.store.flush();
}

/** Rollback never listens to the cancel signal: stopping halfway would leave more behind. */
async function backward(run: Run, rec: Recovery): Promise<void> {
  const quiet: Run = { ...run, opts: { ...run.opts, signal: undefined } } as Run;
  const sync = () => {
    run.journal = quiet.journal;
  };
  try {
    for (const id of rec.forward) await lockedStep(quiet, id, 'forward');
    for (const id of rec.undo) await lockedStep(quiet, id, 'undo');
  } finally {
    sync();
  }
}

/**
 * A rollback never deletes data: the removed member's disk, deleted only as
 * the plan's last step, stays when the operation was rolled back before it.
 */
function keptDiskNote(j: Journal, outcome: OpResult['outcome']): string | null {
  if (outcome !== 'rolled-back') return null;
  const step = j.plan.steps.find((s) => s.id === 'remove.disk');
  const rec = j.steps.find((r) => r.id === 'remove.disk');
  if (!step || step.kind !== 'disk.delete' || !rec || rec.status === 'done' || rec.status === 'skipped')
    return null;
  return `disk ${step.args.name} in ${step.args.zone} (the removed member's etcd data) is kept: kube-ha cleanup deletes it`;
}

function result(run: Run, outcome: OpResult['outcome'], reasons: string[], cancelled = false): OpResult {
  const exitCode = outcome === 'done' ? 0 : outcome === 'refused' ? 3 : outcome === 'rolled-back' ? 4 : 1;
  const kept = keptDiskNote(run.journal, outcome);
  return {
    outcome,
    operationId: run.journal.operationId,
    summary: run.journal.plan.summary,
    exitCode,
    reasons: kept ? [...reasons, kept] : reasons,
    cancelled,
    elapsedMs: Date.now() - run.started,
    timings: run.timings,
    leftovers: outcome === 'failed' ? leftovers(run.journal) : [],
    journal: run.journal,
  };
}

function refused(summary: string, reasons: string[], started: number, operationId: string | null): OpResult {
  return {
    outcome: 'refused',
    operationId,
    summary,
    exitCode: 3,
    reasons,
    cancelled: false,
    elapsedMs: Date.now() - started,
    timings: [],
    leftovers: [],
    journal: null,
  };
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

async function rollBack(run: Run, rec: Recovery, reasons: string[], cancelled: boolean): Promise<OpResult> {
  // Every step, the final check included, had run before the rollback was asked for (a kill after
  // the last step): past a point of no return there is nothing to return to, and nothing failed.
  const completedBefore = run.journal.steps.every((s) => s.status === 'done' || s.status === 'skipped');
  try {
    await backward(run, rec);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    save(run, { ...run.journal, state: 'failed', error: message, updatedAt: new Date().toISOString() });
    return result(run, 'failed', [...reasons, `rollback stopped: ${message}`], cancelled);
  }
  const steps = run.journal.plan.steps;
  // Finishing forward past a point of no return to the very end completes the operation.
  const finished =
    rec.undo.length === 0 &&
    rec.forward.length > 0 &&
    run.journal.steps.every((s) => s.status === 'done' || s.status === 'skipped');
  // Past a point of no return, the steps after the checkpoint ran but had nothing to undo (only a
  // check failed): the change stands, unverified. When none of them ran (a remove killed past its
  // point of no return, then rolled back) the cluster is at the checkpoint: rolled back to it.
  const undidNothing =
    rec.undo.length > 0 && rec.undo.every((id) => steps.find((s) => s.id === id)?.undo === null);
  const now = () => new Date().toISOString();
  // A kill after the last step (the old disk's deletion, itself a checkpoint) leaves nothing to
  // finish or undo: the operation is done.
  if (finished || (rec.pastPointOfNoReturn && (undidNothing || completedBefore))) {
    save(run, { ...run.journal, state: 'done', updatedAt: now() });
    if (finished)
      return result(run, 'done', [...reasons, `completed instead of rolled back: ${rec.note}`], cancelled);
    if (completedBefore)
      return result(
        run,
        'done',
        [...reasons, `the operation had completed and verified before it was interrupted: ${rec.note}`],
        cancelled,
      );
    return result(
      run,
      'failed',
      [...reasons, 'every change was made but the result did not verify: check kube-ha status'],
      cancelled,
    );
  }
  save(run, { ...run.journal, state: 'rolled-back', updatedAt: now() });
  if (rec.pastPointOfNoReturn) {
    const removed = run.journal.plan.remove?.name ?? 'the replica';
    return result(
      run,
      'rolled-back',
      [...reasons, `rolled back to the point after removing ${removed}`],
      cancelled,
    );
  }
  return result(run, 'rolled-back', reasons, cancelled);
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

/** `kube-ha operation resume`: runs what the unfinished journal has left, rolling back if a step fails. */
export async function resumeOperation(
  journal: Journal,
  deps: ExecDeps,
  opts: ExecOptions = {},
): Promise<OpResult> {
  if (isFinished(journal)) throw new Error(`operation ${journal.operationId} is already ${journal.state}`);
  return withLock(deps, { plan: journal.plan, journal }, opts, 'resume', async (run) => {
    const refusals = await recoveryRefusals(deps, journal, 'resume');
    if (refusals.length) return refused(journal.plan.summary, refusals, run.started, journal.operationId);
    return journalled(run, async () => {
      save(run, {
        ...run.journal,
        state: 'running',
        holder: deps.holder,
        updatedAt: new Date().toISOString(),
      });
      return drive(run, resumeRecovery(run.journal).forward);
    });
  });
}

/** `kube-ha operation rollback`: undoes what the unfinished journal did (finishing past a point of no return). */
export async function rollbackOperation(
  journal: Journal,
  deps: ExecDeps,
  opts: ExecOptions = {},
): Promise<OpResult> {
  if (isFinished(journal)) throw new Error(`operation ${journal.operationId} is already ${journal.state}`);
  return withLock(deps, { plan: journal.plan, journal }, opts, 'rollback', async (run) => {
    const refusals = await recoveryRefusals(deps, journal, 'rollback');
    if (refusals.length) return refused(journal.plan.summary, refusals, run.started, journal.operationId);
    return journalled(run, async () => {
      save(run, {
        ...run.journal,
        state: 'rolling-back',
        holder: deps.holder,
        updatedAt: new Date().toISOString(),
      });
      const rec = rollbackRecovery(run.journal);
      emit(run, { type: 'note', message: `rolling back: ${rec.note}`, at: Date.now() });
      const res = await rollBack(run, rec, [], false);
      // Asked for a rollback and got one: that is success.
      return res.outcome === 'rolled-back' ? { ...res, outcome: 'done', exitCode: 0 } : res;
    });
  });
}
