// The operation view's state, in a small store of its own beside the console
// store: which screen of an operator flow is up (zone picker, plan, running,
// outcome, an unfinished operation found at start) and what the running
// operation has reported. The executor's events are folded in here; the
// components only render it.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Journal, StepStatus } from '../../domain/ops/journal.js';
import type { PlannedOperation } from '../../domain/ops/operation.js';
import type { Plan } from '../../domain/ops/plan.js';
import type { RecoverDiagnosis } from '../../domain/ops/recover.js';
import type { RemedyChoice } from '../../domain/ops/remedy-choice.js';
import type { OpEvent, OpResult } from '../../ops/events.js';

/** A step's status on screen: the journal's. */
export type OpsStepStatus = StepStatus;

export interface OpsStep {
  id: string;
  title: string;
  status: OpsStepStatus;
  /** When the current run of the step started (running / undoing). */
  startedAt: number | null;
  elapsedMs: number | null;
  note: string | null;
  error: string | null;
}

export interface OpsProgress {
  stepId: string;
  current: number | null;
  target: number | null;
  message: string;
}

export interface ZoneChoice {
  zone: string;
  replicas: number;
}

export type OpsPhase =
  | { kind: 'idle' }
  /** Waiting for the session or the plan; Esc drops what comes back. */
  | { kind: 'busy'; text: string }
  | { kind: 'zone'; zones: ZoneChoice[]; index: number }
  /** R on a sick replica: the lighter rung first (start or reset), replace as the further option. */
  | { kind: 'remedy'; replica: string; choice: RemedyChoice }
  /** V after quorum loss: kube-ha recover's diagnosis of what the console sees. */
  | { kind: 'quorum'; diagnosis: RecoverDiagnosis }
  | {
      kind: 'plan';
      planned: PlannedOperation;
      /** What the operator typed so far (removal and replacement). */
      typed: string;
      /** Why the last Enter did not confirm. */
      error: string | null;
    }
  /** `askingCancel`: Esc was pressed and "cancel and roll back? y/N" is up; it still runs. */
  | { kind: 'running'; askingCancel?: boolean }
  | { kind: 'outcome'; result: OpResult }
  | { kind: 'unfinished'; journal: Journal }
  /** U or B on an unfinished operation: what it will do, and its id typed to confirm. */
  | {
      kind: 'recover';
      journal: Journal;
      mode: 'resume' | 'rollback';
      typed: string;
      /** Why the last Enter did not confirm. */
      error: string | null;
    }
  | { kind: 'error'; text: string };

/** The operation on screen: its steps as reported, the learner's catch-up, the call log. */
export interface OpsRun {
  operationId: string;
  summary: string;
  mode: 'run' | 'resume' | 'rollback';
  startedAt: number;
  steps: OpsStep[];
  progress: OpsProgress | null;
  /** Every Compute and etcd call, oldest first (capped). */
  calls: string[];
  notes: string[];
  /** Esc was pressed: the executor rolls back after the current step. */
  cancelling: boolean;
  endedAt: number | null;
}

export interface OpsState {
  phase: OpsPhase;
  run: OpsRun | null;
  /** A line that stays (read-only mode: an unfinished operation exists). */
  notice: string | null;
}

export interface OpsActions {
  setPhase(phase: OpsPhase): void;
  setNotice(notice: string | null): void;
  /** A fresh run view for a plan (all steps pending) or a journal (steps as recorded). */
  beginRun(plan: Plan, mode: OpsRun['mode'], journal: Journal | null, at: number): void;
  markCancelling(): void;
  applyEvent(e: OpEvent): void;
}

export type OpsStore = StoreApi<OpsState & OpsActions>;

/** The call log keeps this many lines; the view shows the newest that fit. */
export const CALL_LOG_LIMIT = 500;

function stepsOf(plan: Plan, journal: Journal | null): OpsStep[] {
  return plan.steps.map((s, i) => {
    const rec = journal?.steps[i];
    const status = (rec?.status ?? 'pending') as OpsStepStatus;
    return {
      id: s.id,
      title: s.title,
      // A step a killed run left 'running' is not running now.
      status: status === 'running' || status === 'undoing' ? 'failed' : status,
      startedAt: null,
      elapsedMs: null,
      note: rec?.note ?? null,
      error: rec?.error ?? null,
    };
  });
}

function patchStep(run: OpsRun, index: number, p: Partial<OpsStep>): OpsRun {
  if (!run.steps[index]) return run;
  return { ...run, steps: run.steps.map((s, i) => (i === index ? { ...s, ...p } : s)) };
}

/** Folds one executor event into the run. Pure. */
export function foldEvent(run: OpsRun, e: OpEvent): OpsRun {
  switch (e.type) {
    case 'operation-start':
      return { ...run, operationId: e.operationId, summary: e.summary, mode: e.mode, startedAt: e.at };
    case 'step-start':
      return patchStep(run, e.index, {
        status: e.mode === 'undo' ? 'undoing' : 'running',
        startedAt: e.at,
        elapsedMs: null,
        error: null,
      });
    case 'step-end':
      return {
        ...patchStep(run, e.index, {
          status: e.status,
          startedAt: null,
          elapsedMs: e.elapsedMs,
          note: e.note ?? null,
          error: e.error ?? null,
        }),
        progress: run.progress?.stepId === e.step.id ? null : run.progress,
      };
    case 'call': {
      const calls = [...run.calls, e.line];
      return { ...run, calls: calls.length > CALL_LOG_LIMIT ? calls.slice(-CALL_LOG_LIMIT) : calls };
    }
    case 'progress':
      return {
        ...run,
        progress: { stepId: e.stepId, current: e.current, target: e.target, message: e.message },
      };
    case 'note':
      return { ...run, notes: [...run.notes, e.message].slice(-20) };
    case 'operation-end':
      return { ...run, progress: null, endedAt: e.at };
  }
}

export function createOpsStore(): OpsStore {
  return createStore<OpsState & OpsActions>()((set, get) => ({
    phase: { kind: 'idle' },
    run: null,
    notice: null,
    setPhase: (phase) => set({ phase }),
    setNotice: (notice) => {
      if (get().notice !== notice) set({ notice });
    },
    beginRun: (plan, mode, journal, at) =>
      set({
        phase: { kind: 'running' },
        run: {
          operationId: plan.operationId,
          summary: plan.summary,
          mode,
          startedAt: at,
          steps: stepsOf(plan, journal),
          progress: null,
          calls: [],
          notes: [],
          cancelling: false,
          endedAt: null,
        },
      }),
    markCancelling: () => {
      const run = get().run;
      if (run && !run.cancelling) set({ run: { ...run, cancelling: true } });
    },
    applyEvent: (e) => {
      const run = get().run;
      if (run) set({ run: foldEvent(run, e) });
    },
  }));
}
