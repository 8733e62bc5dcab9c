import { execFileSync } from 'node:child_process';

// Fail fast, with the fix, when etcd is missing (npm test installs it first).
export default function setup(): void {
  try {
    execFileSync(process.env.KUBE_HA_ETCD_BIN ?? 'etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('etcd is not installed: run `bash scripts/ensure-deps.sh` (npm test does this)');
  }
}
