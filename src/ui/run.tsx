// Runs the console on the terminal until `q` or Ctrl-C, and gives the
// terminal back as it was (alternate screen, cursor, raw mode).
import { isatty } from 'node:tty';
import { render } from 'ink';
import type { ConsoleStore } from '../store/consoleStore.js';
import { attachSessionLog, SessionLog } from '../store/sessionLog.js';
import { mark } from '../trace.js';
import { App } from './components/App.js';
import { redirectToDebugLog } from './debugLog.js';
import type { OpsController } from './ops/controller.js';
import { onTerminalGone, SIGNAL_EXIT } from './terminal-gone.js';
import { createTheme } from './theme.js';

export interface RunConsoleOptions {
  store: ConsoleStore;
  /** From startPollers: `r` calls refreshNow; stop() is called when the console exits. */
  pollers?: { refreshNow(): void; stop?(): void };
  /** --write: enables the action keys (they call onAction). */
  write: boolean;
  /** false for NO_COLOR / --no-color (see colorWanted). */
  color: boolean;
  /** --ascii: no Unicode glyphs or box drawing. */
  ascii: boolean;
  /** Where `e` writes incident logs, and the session's timeline is logged (sessions/). */
  stateDir: string;
  /** Console output, warnings and stray stderr go here while the screen is up. */
  debugLogPath: string;
  /** The operator flows: `a`, `d`, `R` in write mode. */
  ops?: OpsController;
  /** Streams (tests); default the process's own. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

const ALT_SCREEN_ON = '\u001b[?1049h';
const ALT_SCREEN_OFF = '\u001b[?1049l';
/** How long Ink's exit is waited for once the terminal is gone (it has nothing left to draw on). */
const HUNG_UP_GRACE_MS = 1000;

/** Resolves with the exit code: 0 after `q` or Ctrl-C, 128+n after signal n, 1 on a crash. */
export async function runConsole(opts: RunConsoleOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  const { store } = opts;
  const mode = opts.write ? 'write' : 'read-only';
  if (store.getState().mode !== mode) store.setState({ mode });

  const log = redirectToDebugLog(opts.debugLogPath, () =>
    store.getState().setMessage(`internal error, details in ${opts.debugLogPath}`, 'error'),
  );
  // A full-screen console on its own screen, like k9s: quitting restores what
  // was on the terminal before.
  const altScreen = Boolean(stdout.isTTY);
  let altActive = false;
  const leaveAltScreen = () => {
    if (altActive) {
      altActive = false;
      stdout.write(ALT_SCREEN_OFF);
    }
  };
  if (altScreen) {
    stdout.write(ALT_SCREEN_ON);
    altActive = true;
  }
  process.on('exit', leaveAltScreen);

  // When the terminal narrows, it rewraps the old frame's wide lines into more
  // rows than Ink erases, leaving stale rows at the top. We own the alternate
  // screen: clear it first (this listener runs before Ink's, which then redraws
  // from scratch because the width shrank).
  let lastColumns = stdout.columns ?? 0;
  const clearOnNarrow = () => {
    const columns = stdout.columns ?? 0;
    if (altActive && columns < lastColumns) stdout.write('\u001b[2J\u001b[H');
    lastColumns = columns;
  };
  stdout.on('resize', clearOnNarrow);

  // Every timeline event goes to disk as it comes: memory keeps only the newest.
  const sessionLog = new SessionLog({ stateDir: opts.stateDir, startedAt: Date.now() });
  const detachSessionLog = attachSessionLog(store, sessionLog);

  let code = 0;
  const signals = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;
  const handlers = new Map<NodeJS.Signals, () => void>();
  let stop: (() => void) | null = null;
  // Once the terminal is gone, Ink's exit is waited for at most a second: it
  // ends with an empty write to stdout as a barrier, which a terminal that is
  // gone need not ever complete, and the exit must still run.
  let terminalGone: () => void = () => {};
  const goneGrace = new Promise<void>((resolve) => {
    terminalGone = () => setTimeout(resolve, HUNG_UP_GRACE_MS);
  });
  // Nothing is left to draw on once the terminal is gone: the console ends as
  // on SIGHUP and its exit runs (pollers, session log, a demo's lab). The
  // listeners stay: the terminal does not come back.
  const gone = () => {
    if (code === 0) code = SIGNAL_EXIT.SIGHUP;
    terminalGone();
    stop?.();
  };
  onTerminalGone([stdout, process.stderr, stdin], gone, (err) =>
    log.write('terminal', err.stack ?? err.message),
  );
  // A terminal can also hang up without a SIGHUP reaching this process (a parent
  // that keeps it: `sh -c` with a trap) and, on an unchanged screen, without a
  // write failing: the console would poll on for nobody. Ask the terminal each
  // second (one ioctl) whether it is still one.
  const fd = (stdout as { fd?: unknown }).fd;
  let ttyCheck: NodeJS.Timeout | undefined;
  if (typeof fd === 'number' && isatty(fd)) {
    ttyCheck = setInterval(() => {
      if (isatty(fd)) return;
      clearInterval(ttyCheck);
      gone();
    }, 1000);
    ttyCheck.unref();
  }
  try {
    const instance = render(
      <App
        store={store}
        theme={createTheme({ color: opts.color, ascii: opts.ascii })}
        write={opts.write}
        stateDir={opts.stateDir}
        sessionLog={sessionLog}
        refresh={opts.pollers ? () => opts.pollers?.refreshNow() : undefined}
        ops={opts.ops}
      />,
      {
        stdout,
        stdin,
        exitOnCtrlC: false,
        patchConsole: false,
        // Ink 6.8's incremental mode draws each frame one row too low after a
        // frame ending in a newline (seen in tmux: the first line repeats).
        // The standard mode rewrites a frame only when it differs, which the
        // store makes rare.
        incrementalRendering: false,
        maxFps: 20,
      },
    );
    mark('first frame');
    stop = () => instance.unmount();
    for (const sig of signals) {
      const h = () => {
        code = SIGNAL_EXIT[sig];
        if (sig === 'SIGHUP') terminalGone();
        instance.unmount();
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    await Promise.race([instance.waitUntilExit(), goneGrace]);
  } catch (err) {
    log.write('crash', err instanceof Error ? (err.stack ?? err.message) : String(err));
    code = 1;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    clearInterval(ttyCheck);
    stdout.off('resize', clearOnNarrow);
    opts.pollers?.stop?.();
    detachSessionLog();
    await sessionLog.flush();
    leaveAltScreen();
    process.off('exit', leaveAltScreen);
    await log.restore();
  }
  return code;
}
