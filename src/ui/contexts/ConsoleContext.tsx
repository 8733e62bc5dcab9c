// What every component may read: the store and the theme. Provided once by App.
import { createContext, type ReactNode, useContext } from 'react';
import type { ConsoleStore } from '../../store/consoleStore.js';
import type { Theme } from '../theme.js';

export interface ConsoleContextValue {
  store: ConsoleStore;
  theme: Theme;
}

const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export function ConsoleProvider(props: { value: ConsoleContextValue; children: ReactNode }) {
  return <ConsoleContext.Provider value={props.value}>{props.children}</ConsoleContext.Provider>;
}

export function useConsoleContext(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('console components must be rendered inside <ConsoleProvider>');
  return value;
}
