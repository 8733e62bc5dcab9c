// The lab's Compute-API-compatible server: what the lab and tests import.
export { ApiError, type GoogleErrorBody } from './errors.js';
export type { ComputeFault, FaultHandle, FaultMatch } from './faults.js';
export { DEFAULT_ZONES, regionOfZone } from './names.js';
export {
  type ComputeService,
  type ComputeServiceOptions,
  createComputeService,
  type LoadBalancerView,
} from './server.js';
export type { ComputeState } from './state.js';
export type * from './types.js';
export { DEFAULT_TIMING } from './types.js';
