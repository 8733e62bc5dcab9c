// Subscribes a component to the operation store. Selectors return values held
// in the state (never new objects), so an unchanged store renders nothing.
import { useStore } from 'zustand';
import type { OpsController } from './controller.js';
import { createOpsStore, type OpsState } from './opsStore.js';

/** Read-only consoles and tests without operator flows: a store that stays idle. */
const IDLE = createOpsStore();

export function useOpsState<T>(controller: OpsController | null, selector: (s: OpsState) => T): T {
  return useStore(controller?.ops ?? IDLE, selector);
}
