// `kube-ha --version`: the package's version, and for the single executable
// (scripts/sea.mjs) that it is one and the Node.js it embeds, since that
// runtime is what an operator copied onto a replica.
import { readFileSync } from 'node:fs';

declare global {
  /** Set by the single executable's entry (scripts/sea/entry.mjs) before main() runs. */
  var kubeHaExecutable: { version: string } | undefined;
}

export function versionText(): string {
  const exe = globalThis.kubeHaExecutable;
  if (exe) return `${exe.version} (single executable, Node.js ${process.version})`;
  // From dist/cli/ and dist/bundle/ alike (and src/cli/), the package root is two up.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
