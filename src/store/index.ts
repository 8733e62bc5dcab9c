export * from './consoleStore.js';
export * from './describe.js';
export * from './equal.js';
export * from './incident.js';
export * from './leases.js';
export * from './selectors.js';
export * from './timeline.js';
export * from './types.js';
