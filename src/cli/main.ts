// Entry point: dispatches the subcommand. Heavy modules (the Compute client,
// Ink) are imported by the commands that need them, not here; in the bundle
// (scripts/bundle.mjs) each of those imports is a chunk of its own.
import './quiet-warnings.js';
import { mark } from '../trace.js';
import { EXIT, HELP, UsageError } from './usage.js';
import { versionText } from './version.js';

/** The console and `demo`; the launcher runs this module from its bundle when there is a fresh one. */
function loadConsole(): Promise<typeof import('./console.js')> {
  return import('./console.js');
}

export async function main(argv: string[]): Promise<number> {
  mark('main');
  const [cmd, ...rest] = argv;
  const opsCommands = [
    'add',
    'remove',
    'replace',
    'reset',
    'start',
    'operation',
    'cleanup',
    'snapshot',
    'recover',
  ];
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
        process.stdout.write(`${versionText()}\n`);
        return EXIT.ok;
      case 'status':
        return await (await import('./status.js')).statusCommand(rest);
      case 'lab':
        return await (await import('./lab.js')).labCommand(rest);
      case 'cleanup':
        return await (await import('./cleanup.js')).cleanupCommand(rest);
      case 'snapshot':
        return await (await import('./snapshot.js')).snapshotCommand(rest);
      case 'recover':
        return await (await import('./recover.js')).recoverCommand(rest);
      case 'add':
      case 'remove':
      case 'replace':
      case 'defrag':
      case 'reset':
      case 'start':
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
