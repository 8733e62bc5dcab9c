// Entry point: dispatches the subcommand. Heavy modules (the Compute client,
// Ink) are imported by the commands that need them, not here.
import './quiet-warnings.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mark } from '../trace.js';
import { EXIT, HELP, UsageError } from './usage.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

type ConsoleModule = typeof import('./console.js');

/**
 * The console from its one-file bundle (scripts/bundle.mjs: loading Ink and the
 * console as ~400 separate modules cost most of the first second), or from its
 * modules when there is no bundle or it predates the last compile (running on
 * sources, or after a bare `tsc`).
 */
async function loadConsole(): Promise<ConsoleModule> {
  const bundle = new URL('./console.bundle.js', import.meta.url);
  const compiled = new URL('../.tsbuildinfo', import.meta.url);
  if (
    existsSync(bundle) &&
    (!existsSync(compiled) || statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs)
  ) {
    return (await import(bundle.href)) as ConsoleModule;
  }
  return import('./console.js');
}

export async function main(argv: string[]): Promise<number> {
  mark('main');
  const [cmd, ...rest] = argv;
  const opsCommands = ['add', 'remove', 'replace', 'operation'];
  if ((rest.includes('--help') || rest.includes('-h')) && !opsCommands.includes(cmd ?? '')) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  try {
    switch (cmd) {
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(HELP);
        return EXIT.ok;
      case '--version':
        process.stdout.write(`${version()}\n`);
        return EXIT.ok;
      case 'status':
        return await (await import('./status.js')).statusCommand(rest);
      case 'lab':
        return await (await import('./lab.js')).labCommand(rest);
      case 'add':
      case 'remove':
      case 'replace':
      case 'operation':
        return await (await import('./ops.js')).opsCommand(cmd, rest);
      case 'demo':
        return await (await loadConsole()).demoCommand(rest);
      case 'ui':
        return await (await loadConsole()).consoleCommand(rest);
      case undefined:
        return await (await loadConsole()).consoleCommand([]);
      default:
        if (cmd.startsWith('-')) return await (await loadConsole()).consoleCommand(argv);
        throw new UsageError(`unknown command '${cmd}' (see kube-ha --help)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kube-ha: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}
