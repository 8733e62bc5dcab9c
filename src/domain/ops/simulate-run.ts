// The plan simulator's executor: runs a plan's steps and their undos on a
// SimState the way src/ops/executor.ts runs them on a cluster (the journal
// written before and after every step, on a failure the journal's rollback
// recovery, `operation resume` and `operation rollback` from the journal as
// last written), with faults injected at any step, and checks the invariants
// after every change. Pure: faults and the failing member are given.
import {
  isFinished,
  type Journal,
  newJournal,
  type Recovery,
  resumeRecovery,
  rollbackRecovery,
  type StepRecord,
} from './journal.js';
import type { OperationHolder } from './lock.js';
import type { Plan, PlanStep, StepKind } from './plan.js';
import { stopsOnFailure } from './plan-defrag.js';
import { effectSnapshot, effectViolations, type Violation } from './simulate-invariants.js';
import { cloneState, type SimState } from './simulate-state.js';
import { absent, hasUndo, prelude, runForward, runUndo, type StepResult } from './simulate-steps.js';

/** kube-ha add|remove|replace, `operation resume`, `operation rollback`. */
export type Command = 'run' | 'resume' | 'rollback';

/**
 * What happens at one action (a step run forward or undone):
 * fail-before: the runner fails and nothing changed;
 * fail-after: the change was made but the runner fails (a deadline hid a success);
 * kill-before: the process dies before the step (the journal does not show it started);
 * kill-mid: it dies after journalling the step as started, before any change;
 * kill-after-effect: it dies after the change, before journalling its end.
 */
export type Fault = 'fail-before' | 'fail-after' | 'kill-before' | 'kill-mid' | 'kill-after-effect';

export interface Action {
  /** Counts every action of every command of the scenario, from 0. */
  n: number;
  command: Command;
  mode: 'forward' | 'undo';
  stepId: string;
  kind: StepKind;
}

export interface RecoveryRules {
  rollback(j: Journal): Recovery;
  resume(j: Journal): Recovery;
}

export const REAL_RECOVERY: RecoveryRules = { rollback: rollbackRecovery, resume: resumeRecovery };

export interface SimOptions {
  fault?: (a: Action) => Fault | null;
  /** The member that fails during the operation: its etcd processes stop before action `at`. */
  memberFails?: { replica: string; at: number } | null;
  recovery?: RecoveryRules;
}

export type Outcome = 'done' | 'rolled-back' | 'failed' | 'killed';

export interface CommandResult {
  command: Command;
  /** As the executor reports it (a rollback command that rolled back is 'rolled-back' here). */
  outcome: Outcome;
  /** The journal's state as last written. */
  journalState: Journal['state'];
  reasons: string[];
}

export interface TraceEntry {
  n: number;
  command: Command;
  mode: 'forward' | 'undo';
  stepId: string;
  fault: Fault | null;
  result: 'ok' | 'skipped' | 'failed' | 'killed';
  note: string;
}

const NOW = new Date('2025-01-01T00:00:00Z');
const HOLDER = { user: 'simulator', host: 'simulator', pid: 0, tool: 'plan simulator' } as OperationHolder;

/** Kinds that only wait or check: they change no resource. */
const EFFECTLESS: ReadonlySet<StepKind> = new Set<StepKind>([
  'lb.wait-ready',
  'etcd.wait-caught-up',
  'apiserver.wait-healthy',
  'etcd.move-leader',
  'verify',
]);

class Killed {}

class StepFailed {
  constructor(readonly message: string) {}
}

export class PlanSimulator {
  readonly plan: Plan;
  readonly initial: SimState;
  state: SimState;
  /**
   * The journal as last written (what a new process reads); null before the
   * first command. The executor writes it after every change it makes to it,
   * so the simulator keeps one and changes it in place; only the facts a
   * runner learns are written later, at the step's end (see kill-after-effect).
   */
  journal: Journal | null = null;
  readonly violations: Violation[] = [];
  readonly results: CommandResult[] = [];
  readonly trace: TraceEntry[] = [];
  private actions = 0;
  private command: Command = 'run';
  private readonly opts: SimOptions;
  private readonly recovery: RecoveryRules;
  private readonly byId: Map<string, PlanStep>;
  private readonly index: Map<string, number>;

  constructor(plan: Plan, initial: SimState, opts: SimOptions = {}) {
    this.plan = plan;
    // Never changed: scenarios of one plan share it.
    this.initial = initial;
    this.state = cloneState(initial);
    this.opts = opts;
    this.recovery = opts.recovery ?? REAL_RECOVERY;
    this.byId = new Map(plan.steps.map((s) => [s.id, s]));
    this.index = new Map(plan.steps.map((s, i) => [s.id, i]));
  }

  /** Runs one command to its end (or to the process's death: outcome 'killed'). */
  exec(command: Command): CommandResult {
    this.command = command;
    let res: Omit<CommandResult, 'journalState'>;
    try {
      res = this.body(command);
    } catch (err) {
      if (!(err instanceof Killed)) throw err;
      res = { command, outcome: 'killed', reasons: ['the process died'] };
    }
    const out = { ...res, journalState: this.journal?.state ?? 'running' };
    this.results.push(out);
    return out;
  }

  /** Whether `operation resume|rollback` would accept the journal. */
  unfinished(): boolean {
    return this.journal !== null && !isFinished(this.journal);
  }

  private get j(): Journal {
    if (!this.journal) throw new Error('no journal');
    return this.journal;
  }

  private body(command: Command): Omit<CommandResult, 'journalState'> {
    if (command === 'run') {
      this.journal = newJournal(this.plan, HOLDER, NOW);
      return this.drive(this.plan.steps.map((s) => s.id));
    }
    if (!this.journal || isFinished(this.journal))
      throw new Error(`no unfinished operation to ${command} (${this.journal?.state ?? 'no journal'})`);
    if (command === 'resume') {
      this.j.state = 'running';
      return this.drive(this.recovery.resume(this.j).forward);
    }
    this.j.state = 'rolling-back';
    return this.rollBack(this.recovery.rollback(this.j), []);
  }

  /** journal.ts's updateStep, in place and without its clock. */
  private patch(id: string, p: Partial<StepRecord>): void {
    const i = this.index.get(id)!;
    this.j.steps[i] = { ...this.j.steps[i]!, ...p };
  }

  private drive(ids: string[]): Omit<CommandResult, 'journalState'> {
    try {
      for (const id of ids) this.step(id, 'forward');
      this.j.state = 'done';
      return { command: this.command, outcome: 'done', reasons: [] };
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      // The executor's stop: a plan with nothing to roll back leaves the rest for a resume.
      if (stopsOnFailure(this.plan)) {
        this.j.state = 'failed';
        this.j.error = err.message;
        return { command: this.command, outcome: 'failed', reasons: [err.message] };
      }
      this.j.state = 'rolling-back';
      this.j.error = err.message;
      return this.rollBack(this.recovery.rollback(this.j), [err.message]);
    }
  }

  /** The executor's rollBack: the recovery's forward steps, then its undos; the same outcome rules. */
  private rollBack(rec: Recovery, reasons: string[]): Omit<CommandResult, 'journalState'> {
    const command = this.command;
    const j = this.j;
    const completedBefore = j.steps.every((s) => s.status === 'done' || s.status === 'skipped');
    try {
      for (const id of rec.forward) this.step(id, 'forward');
      for (const id of rec.undo) this.step(id, 'undo');
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      j.state = 'failed';
      j.error = err.message;
      return { command, outcome: 'failed', reasons: [...reasons, `rollback stopped: ${err.message}`] };
    }
    const finished =
      rec.undo.length === 0 &&
      rec.forward.length > 0 &&
      j.steps.every((s) => s.status === 'done' || s.status === 'skipped');
    const undidNothing = rec.undo.length > 0 && rec.undo.every((id) => this.byId.get(id)?.undo === null);
    if (finished || (rec.pastPointOfNoReturn && undidNothing)) {
      j.state = 'done';
      if (finished) return { command, outcome: 'done', reasons: [...reasons, 'completed instead'] };
      if (completedBefore) return { command, outcome: 'done', reasons: [...reasons, 'had completed'] };
      return { command, outcome: 'failed', reasons: [...reasons, 'every change made, not verified'] };
    }
    j.state = 'rolled-back';
    return { command, outcome: 'rolled-back', reasons };
  }

  /** One action: the executor's runStep, with the scenario's fault and failing member. */
  private step(id: string, mode: 'forward' | 'undo'): void {
    const step = this.byId.get(id);
    if (!step) throw new Error(`plan has no step ${id}`);
    const n = this.actions++;
    const mf = this.opts.memberFails;
    if (mf && mf.at === n) this.state.down.add(mf.replica);
    const fault = this.opts.fault?.({ n, command: this.command, mode, stepId: id, kind: step.kind }) ?? null;
    const log = (result: TraceEntry['result'], note: string) =>
      this.trace.push({ n, command: this.command, mode, stepId: id, fault, result, note });
    if (fault === 'kill-before') {
      log('killed', 'before the step');
      throw new Killed();
    }
    this.patch(id, { status: mode === 'forward' ? 'running' : 'undoing' });
    if (fault === 'kill-mid') {
      log('killed', 'after journalling its start');
      throw new Killed();
    }
    const facts = this.j.facts;
    let res: StepResult;
    // A step without an undo runner is "undone" without a call that could fail.
    const fallible = mode === 'forward' || hasUndo(step.kind);
    if (fault === 'fail-before' && fallible) {
      if (mode === 'forward') prelude(step, facts);
      res = { ok: false, error: 'injected failure, nothing changed' };
    } else {
      const before = EFFECTLESS.has(step.kind) ? null : effectSnapshot(this.state);
      // The journal was last written before the runner: without the facts it learns now.
      const written = fault === 'kill-after-effect' ? { ...facts } : null;
      res =
        mode === 'forward'
          ? runForward(step, this.state, facts)
          : (runUndo(step, this.state, facts) ?? { ok: true, note: 'nothing to undo' });
      if (before) {
        const what = `${this.command}: ${mode === 'undo' ? 'undo of ' : ''}${id}`;
        this.violations.push(...effectViolations(before, this.state, what));
      }
      if (res.ok && written) {
        this.j.facts = written;
        log('killed', 'after its change, before journalling its end');
        throw new Killed();
      }
      if (res.ok && fault === 'fail-after' && fallible)
        res = { ok: false, error: 'injected failure after its change' };
    }
    if (res.ok) {
      const status = mode === 'undo' ? 'undone' : res.skipped ? 'skipped' : 'done';
      this.patch(id, { status, note: res.note });
      log(res.skipped ? 'skipped' : 'ok', res.note);
      return;
    }
    if (mode === 'forward') {
      const nothing = absent(step, this.state, facts) === true;
      this.patch(id, { status: 'failed', error: res.error, ...(nothing ? { applied: false } : {}) });
    } else {
      this.patch(id, { status: 'undo-failed', error: res.error });
    }
    log('failed', res.error);
    throw new StepFailed(`${mode === 'undo' ? 'undo of ' : ''}${step.title}: ${res.error}`);
  }
}
