// What the console's operator flows (keys a / d / R) take from src/ops, and
// load lazily (ui/ops/backend.ts): running a plan, resuming or rolling back
// an unfinished one, with their options and events. The session that plans
// (session.ts), the journal and the renderers are imported from their modules.
//   const result = await executePlan(planned.plan!, session.deps, { onEvent, signal });
// Events: step-start / step-end (elapsed), call (the command log), progress
// (the learner's applied index against the leader's), note, operation-end.

export type { OpResult } from './events.js';
export { type ExecOptions, executePlan, resumeOperation, rollbackOperation } from './executor.js';
export type { OpsSession } from './session.js';
