// `npm run bench`: every benchmark, printed as lines a person can paste into notes.
import { benchConsole } from './console-bench.js';
import { benchLeases } from './leases-bench.js';
import { benchStatus } from './status-bench.js';
import { benchTable } from './table-bench.js';

/** Name, bench, and whether its lines print as they are (a table) or as a list. */
const benches: [string, () => Promise<string[]>, ('raw' | 'list')?][] = [
  ['table', () => benchTable(), 'raw'],
  ['status', () => benchStatus()],
  ['console', () => benchConsole()],
  ['leases', () => benchLeases()],
];

async function run(): Promise<void> {
  const only = process.argv.slice(2);
  for (const [name, bench, style] of benches) {
    if (only.length && !only.includes(name)) continue;
    process.stdout.write(`## ${name}\n`);
    for (const line of await bench()) process.stdout.write(style === 'raw' ? `${line}\n` : `- ${line}\n`);
  }
}

run().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
