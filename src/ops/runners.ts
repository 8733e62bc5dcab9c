// The step runners live in runners/, one file per resource; this is their public face.
export {
  CancelledError,
  DEFAULT_TIMING,
  type RunContext,
  runnerFor,
  type Timing,
  verifyProblems,
} from './runners/index.js';
