// Renders the console the way the tests need: ink-testing-library for the
// default 100-column terminal, and a sized fake terminal (columns, rows,
// resize) for the narrow layouts that library cannot produce.
import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import { render as renderTest } from 'ink-testing-library';
import type { ReactElement } from 'react';
import type { ClusterStatus } from '../../src/domain/types.js';
import { type ConsoleStore, type ConsoleStoreOptions, createConsoleStore } from '../../src/store/index.js';
import { App, type AppProps } from '../../src/ui/components/App.js';
import { createTheme } from '../../src/ui/theme.js';
import { T0 } from './fixtures.js';

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(ANSI, '');
}

export function storeWith(status: ClusterStatus | null, opts: ConsoleStoreOptions = {}): ConsoleStore {
  const store = createConsoleStore({ now: () => T0, ...opts });
  if (status) store.getState().applyStatus(status, T0);
  return store;
}

export function app(store: ConsoleStore, over: Partial<AppProps> = {}): ReactElement {
  return (
    <App
      store={store}
      theme={createTheme({ color: false, ascii: false })}
      write={false}
      stateDir="/nonexistent/kube-ha-test"
      clock={() => T0}
      {...over}
    />
  );
}

export function renderApp(store: ConsoleStore, over: Partial<AppProps> = {}) {
  const r = renderTest(app(store, over));
  return { ...r, text: () => plain(r.lastFrame()) };
}

/** Escape sequences a terminal sends for the special keys of the key table. */
export const KEYS = {
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  enter: '\r',
  escape: '\u001b',
  ctrlC: '\u0003',
  backspace: '\u007f',
} as const;

class SizedStdout extends EventEmitter {
  frames: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = () => this.frames[this.frames.length - 1];
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

export function renderSized(tree: ReactElement, columns: number, rows: number) {
  const stdout = new SizedStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = inkRender(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new SizedStdout(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    stdout,
    stdin,
    unmount: instance.unmount,
    waitUntilExit: instance.waitUntilExit,
    text: () => plain(stdout.lastFrame()),
    resize(c: number, r: number) {
      stdout.columns = c;
      stdout.rows = r;
      stdout.emit('resize');
    },
  };
}

/** Columns a line takes (our glyphs are one column each). */
export function width(line: string): number {
  return [...line].length;
}
