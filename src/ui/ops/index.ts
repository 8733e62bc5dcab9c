// The console's operator flows (keys a / d / R with --write): a controller
// over src/ops, a small store for the operation screens, and their lines.
export type { OpsBackend } from './backend.js';
export { createOpsController, type OpsController, opsScreenOf } from './controller.js';
export * from './lines.js';
export * from './opsStore.js';
export * from './unfinished-lines.js';
