// What an executing operation reports, for the console (a live step list, a
// command log like lazygit's, the learner's catch-up as progress) and for the
// CLI (lines on stderr, or JSON).
import type { Journal, Leftover } from '../domain/ops/journal.js';
import type { PlanStep } from '../domain/ops/plan.js';

export type StepMode = 'forward' | 'undo';

export type OpEvent =
  | {
      type: 'operation-start';
      operationId: string;
      summary: string;
      mode: 'run' | 'resume' | 'rollback';
      at: number;
    }
  | { type: 'step-start'; step: PlanStep; index: number; mode: StepMode; at: number }
  | {
      type: 'step-end';
      step: PlanStep;
      index: number;
      mode: StepMode;
      status: 'done' | 'skipped' | 'failed' | 'undone' | 'undo-failed';
      elapsedMs: number;
      note?: string;
      error?: string;
      at: number;
    }
  /** One underlying Compute or etcd call and its outcome: the command log. */
  | { type: 'call'; line: string; at: number }
  | {
      type: 'progress';
      stepId: string;
      /** The learner's applied index against the leader's. */
      current: number | null;
      target: number | null;
      message: string;
      at: number;
    }
  | { type: 'note'; message: string; at: number }
  | { type: 'operation-end'; result: OpResult; at: number };

export type OpOutcome = 'done' | 'rolled-back' | 'failed' | 'refused';

export interface OpResult {
  outcome: OpOutcome;
  operationId: string | null;
  summary: string;
  /** 0 done, 3 refused (nothing changed), 4 failed and rolled back, 1 failed and not rolled back. */
  exitCode: 0 | 1 | 3 | 4;
  /** Why it was refused or failed. */
  reasons: string[];
  /** The operator cancelled it (it was rolled back). */
  cancelled: boolean;
  elapsedMs: number;
  /** Per step, as run: how the time went. */
  timings: { id: string; mode: StepMode; ms: number; status: string }[];
  /** On outcome 'failed': what is left and how to finish by hand. */
  leftovers: Leftover[];
  journal: Journal | null;
}

export type OnEvent = (e: OpEvent) => void;
