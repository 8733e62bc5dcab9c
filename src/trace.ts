// Startup marks for `npm run bench console`: with KUBE_HA_TRACE=<file>, each
// mark appends "<ms since the process started> <name>" to the file; without
// it, mark() does nothing. Lets the bench say where launch time goes.
import { appendFileSync } from 'node:fs';

const file = process.env.KUBE_HA_TRACE;
const seen = new Set<string>();

/** Records `name` once (later marks of the same name are ignored). */
export function mark(name: string): void {
  if (!file || seen.has(name)) return;
  seen.add(name);
  appendFileSync(file, `${performance.now().toFixed(0)} ${name}\n`);
}
