// Subscribes a component to one slice of the store. Selectors must return
// values already in the state (never build new objects here): the store's
// actions keep unchanged values identical, so an unchanged poll renders nothing.
import { useStore } from 'zustand';
import type { ConsoleState } from '../../store/types.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';

export function useConsoleState<T>(selector: (s: ConsoleState) => T): T {
  const { store } = useConsoleContext();
  return useStore(store, selector);
}
