// While Ink owns the terminal, nothing else may write to it: console output,
// process warnings, stray stderr writes and unhandled rejections go to the
// debug log instead, and everything is put back afterwards.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { format } from 'node:util';

export interface DebugLog {
  write(source: string, text: string): void;
  /** Puts console, stderr and the process listeners back, and closes the file. */
  restore(): Promise<void>;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function redirectToDebugLog(path: string, onUnhandled?: (err: unknown) => void): DebugLog {
  mkdirSync(dirname(path), { recursive: true });
  const file: WriteStream = createWriteStream(path, { flags: 'a' });
  file.on('error', () => {
    // A log that cannot be written must not take the console down.
  });
  const write = (source: string, text: string) => {
    file.write(`${new Date().toISOString()} [${source}] ${text.replace(/\n+$/, '')}\n`);
  };
  write('console', `session started (pid ${process.pid})`);

  const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  for (const m of CONSOLE_METHODS) {
    console[m] = (...args: unknown[]) => write(`console.${m}`, format(...args));
  }
  const stderrWrite = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    write('stderr', typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stderr.write;
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (w: Error) => write('warning', `${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const onRejection = (reason: unknown) => {
    write('unhandledRejection', reason instanceof Error ? (reason.stack ?? reason.message) : format(reason));
    onUnhandled?.(reason);
  };
  process.on('unhandledRejection', onRejection);

  return {
    write,
    restore: async () => {
      for (const [m, fn] of saved) console[m] = fn as never;
      process.stderr.write = stderrWrite;
      process.off('warning', onWarning);
      for (const l of warningListeners) process.on('warning', l);
      process.off('unhandledRejection', onRejection);
      write('console', 'session ended');
      await new Promise<void>((resolve) => file.end(resolve));
    },
  };
}
