// `kube-ha lab` and `kube-ha demo` in the single executable: the lab (real
// etcd processes, a Compute API, a supervisor daemon started from its own
// file) stays in the npm package. Same exports as dist/cli/lab.js uses.
import { UsageError } from '../dist/cli/usage.js';

function needsPackage() {
  return new UsageError(
    'the lab is not in the single executable: install the npm package (see README, Install) to run `kube-ha lab` or `kube-ha demo`',
  );
}
export async function labCommand() {
  throw needsPackage();
}
export async function labUp() {
  throw needsPackage();
}
export async function labDown() {
  throw needsPackage();
}
export function labRunning() {
  throw needsPackage();
}
