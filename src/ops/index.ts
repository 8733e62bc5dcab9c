// The operator-flow API for the console (keys a / d / R) and the CLI:
//   const session = await openOpsSession(target, { tool: 'kube-ha console' });
//   const { planned } = await session.plan({ kind: 'add', zone, name: null });
//   // show renderPlanned(planned) or planned.checks / advisories / preview / plan.steps;
//   // removal: confirm by typing planned.confirmToken (checkConfirmation)
//   const result = await executePlan(planned.plan!, session.deps, { onEvent, signal });
//   await session.close();
// Events: step-start / step-end (elapsed), call (the command log), progress
// (the learner's applied index against the leader's), note, operation-end.
// At start: JournalStore.forTarget(target).unfinished() → renderJournal, then
// resumeOperation / rollbackOperation.

export { type Journal, resumeRecovery, rollbackRecovery } from '../domain/ops/journal.js';
export { checkConfirmation, type PlannedOperation, planOperation } from '../domain/ops/operation.js';
export { renderJournal, renderPlanned } from '../domain/ops/render.js';
export type { OpRequest } from '../domain/ops/request.js';
export type { OnEvent, OpEvent, OpResult } from './events.js';
export {
  type ExecDeps,
  type ExecOptions,
  executePlan,
  resumeOperation,
  rollbackOperation,
} from './executor.js';
export { JournalStore } from './journal-store.js';
export { type OpsSession, openOpsSession } from './session.js';
