// One run of an operation: its journal, saved before and after every step
// (a write that fails stops everything), one step run forward or undone by
// its runner with the events the CLI and the console show, and the result.
// The executor (executor.ts) drives the steps; rollback.ts undoes them.
import { randomUUID } from 'node:crypto';
import { type Journal, leftovers, type StepRecord, updateStep } from '../domain/ops/journal.js';
import { stepsTaken } from '../domain/ops/journal-report.js';
import type { LockRecord, OperationHolder } from '../domain/ops/lock.js';
import type { Plan, PlanStep } from '../domain/ops/plan.js';
import type { ClusterStatus, EtcdClusterName } from '../domain/types.js';
import type { RequestIdBook, RunnerCompute } from './compute-ops.js';
import { describeError } from './compute-ops.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';
import type { OnEvent, OpResult, StepMode } from './events.js';
import { failpoint } from './failpoints.js';
import { type JournalStore, JournalWriteError } from './journal-store.js';
import type { HeldLock, LockAttempt } from './lock.js';
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

export class StepFailed extends Error {
  constructor(
    readonly stepId: string,
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
  }
}

export interface Run {
  journal: Journal;
  deps: ExecDeps;
  opts: ExecOptions;
  lock: HeldLock;
  started: number;
  timings: OpResult['timings'];
}

export function emit(run: Run, e: Parameters<OnEvent>[0]): void {
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
export function save(run: Run, j: Journal): void {
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
export async function journalled(run: Run, body: () => Promise<OpResult>): Promise<OpResult> {
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

export async function runStep(run: Run, id: string, mode: StepMode): Promise<void> {
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

export function result(
  run: Run,
  outcome: OpResult['outcome'],
  reasons: string[],
  cancelled = false,
): OpResult {
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

export function refused(
  summary: string,
  reasons: string[],
  started: number,
  operationId: string | null,
): OpResult {
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
