// The lab's Compute-API-compatible server: what the lab and tests import.
export { type ComputeService, type ComputeServiceOptions, createComputeService } from './server.js';
export type * from './types.js';
