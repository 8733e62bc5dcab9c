// The CLI, lab and end-to-end tests run the built kube-ha (bin/kube-ha.js runs
// dist/bundle/main.js, or dist/cli/ when a later `tsc` left the bundle behind).
// A src/ file changed after that build would be tested as it was before the
// change, and pass or fail for the wrong reason: such a file stops here, with
// the fix. `npm test`, `npm run test:lab` and `npm run test:e2e` build first.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function mtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest source file under src/ and its change time. */
function newestSource(dir: string): { path: string; at: number } {
  let newest = { path: dir, at: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const n = e.isDirectory() ? newestSource(p) : { path: p, at: statSync(p).mtimeMs };
    if (n.at > newest.at) newest = n;
  }
  return newest;
}

/** Throws, saying what to run, when dist/ is missing or older than a file in src/. */
export function assertDistCurrent(root = ROOT): void {
  // What bin/kube-ha.js runs: the bundle, or the compiled tree when that is newer.
  const bundle = mtime(join(root, 'dist', 'bundle', 'main.js'));
  const compiled = mtime(join(root, 'dist', '.tsbuildinfo'));
  const builtAt = Math.max(bundle ?? 0, compiled ?? 0);
  if (builtAt === 0)
    throw new Error('dist/ is not built: run `npm run --silent build` (these tests run the built kube-ha)');
  const src = newestSource(join(root, 'src'));
  if (src.at > builtAt)
    throw new Error(
      `dist/ is older than ${relative(root, src.path)} (changed ${new Date(src.at).toISOString()}, built ${new Date(builtAt).toISOString()}): run \`npm run --silent build\` (these tests run the built kube-ha)`,
    );
}
