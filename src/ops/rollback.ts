// The rollback of a run: steps finished forward to a checkpoint, then undone
// in reverse, always under the lock (taken again if lost) and deaf to the
// operator's cancel; then what the journal says the outcome is.
import type { Recovery } from '../domain/ops/journal.js';
import type { OpResult, StepMode } from './events.js';
import { emit, type Run, result, runStep, StepFailed, save } from './run.js';

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

export async function rollBack(
  run: Run,
  rec: Recovery,
  reasons: string[],
  cancelled: boolean,
): Promise<OpResult> {
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
