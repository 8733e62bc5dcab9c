// The console's operator flows (keys a / d / R with --write): a controller
// over src/ops, a small store for the operation screens, and their lines.
export { type OpsBackend, sessionBackend } from './backend.js';
export {
  createOpsController,
  type OpsController,
  type OpsControllerOptions,
  opsScreenOf,
} from './controller.js';
export * from './lines.js';
export * from './opsStore.js';
export { useOpsState } from './useOps.js';
export { type ConsoleOps, startConsoleOps } from './wiring.js';
