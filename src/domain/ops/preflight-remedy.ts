// The checks of reset and start (issue 16 item 1), beside preflight.ts's and
// in its form: each a named function with a reason a person can read. They
// hold where etcd main has lost quorum too, since these are its remedy: no
// cluster-healthy check, and a reset is refused only where a cluster that
// still HAS quorum depends on the replica being reset. Pure.
import { quorumOf } from '../quorum.js';
import type { ClusterStatus, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import { describeLockPlace, lockPlaceFor } from './plan-remedy.js';
import type { Check, CheckResult } from './preflight.js';
import type { OpRequest } from './request.js';
import { isRemedy } from './request.js';
import { isHealthyVoter, isVoter, resolveReplica, unhealthyReasons } from './resolve.js';

const pass = (name: string, reason: string): CheckResult => ({ name, ok: true, reason });
const fail = (name: string, reason: string): CheckResult => ({ name, ok: false, reason });

/** Statuses a VM passes through on its way somewhere: another change is under way. */
const SETTLING = new Set(['PROVISIONING', 'STAGING', 'STOPPING', 'SUSPENDING', 'REPAIRING']);

function target(status: ClusterStatus, request: OpRequest): ReplicaView | null {
  const r = resolveReplica(status, request);
  return r.ok ? r.replica : null;
}

/** reset needs a RUNNING VM; start a TERMINATED or STOPPED one. Anything else says what would fit. */
export const vmStatusFits: Check = (status, request) => {
  const name = 'vm-status';
  if (!isRemedy(request)) return pass(name, 'not applicable');
  const r = target(status, request);
  if (!r) return fail(name, `no replica named ${request.replica}`);
  const s = r.vm.status;
  const zone = r.zone ?? '<zone>';
  if (s === 'MISSING')
    return fail(
      name,
      `${r.name}'s VM is missing: nothing to ${request.kind} (kube-ha replace --replica ${r.name})`,
    );
  if (s === 'UNKNOWN') return fail(name, `${r.name}'s VM status is not known (Compute did not say)`);
  if (s === 'SUSPENDED')
    return fail(
      name,
      `${r.name}'s VM is SUSPENDED: resume it (gcloud compute instances resume ${r.name} --zone ${zone})`,
    );
  if (SETTLING.has(s)) return fail(name, `${r.name}'s VM is ${s}: wait until it settles, then look again`);
  const stopped = s === 'TERMINATED' || s === 'STOPPED';
  if (request.kind === 'reset') {
    if (stopped)
      return fail(
        name,
        `${r.name}'s VM is ${s}: a reset needs it RUNNING; use kube-ha start --replica ${r.name}`,
      );
    if (s !== 'RUNNING') return fail(name, `${r.name}'s VM is ${s}: a reset needs it RUNNING`);
    return pass(name, `${r.name}'s VM is RUNNING`);
  }
  if (s === 'RUNNING') {
    const sick = unhealthyReasons(r);
    return fail(
      name,
      `${r.name}'s VM is RUNNING: nothing to start${sick.length ? ` (it is unhealthy: ${sick.join('; ')}: kube-ha reset --replica ${r.name})` : ''}`,
    );
  }
  if (!stopped) return fail(name, `${r.name}'s VM is ${s}: start needs it TERMINATED or STOPPED`);
  return pass(name, `${r.name}'s VM is ${s}`);
};

/** One VM change at a time: another VM on its way somewhere (a gcloud call, GCE's own repair) is left to settle. */
export const noVmSettling: Check = (status, request) => {
  const name = 'no-vm-settling';
  const others = status.replicas.filter(
    (x) => isRemedy(request) && x.name !== request.replica && SETTLING.has(x.vm.status),
  );
  if (others.length)
    return fail(
      name,
      `${others.map((x) => `${x.name} is ${x.vm.status}`).join(', ')}: another change is under way; wait until it settles`,
    );
  return pass(name, 'no other VM is changing state');
};

/** A reset reboots a working VM: only one whose members are unhealthy, unless --force. */
export const resetOnlyUnhealthy: Check = (status, request) => {
  const name = 'reset-only-unhealthy';
  if (request.kind !== 'reset') return pass(name, 'not applicable');
  const r = target(status, request);
  if (!r) return fail(name, `no replica named ${request.replica}`);
  const reasons = unhealthyReasons(r);
  if (reasons.length) return pass(name, `${r.name} is unhealthy: ${reasons.join('; ')}`);
  if (request.force) return pass(name, `${r.name} looks healthy, reset anyway (--force)`);
  return fail(
    name,
    `${r.name} looks healthy: reset only resets a sick replica (use --force to reset it anyway)`,
  );
};

/**
 * A reset takes the replica's members down while the VM reboots. A cluster
 * that has quorum must keep it without them, --force or not; a cluster that
 * has already lost it cannot lose it again.
 */
export const resetKeepsQuorum: Check = (status, request) => {
  const name = 'reset-keeps-quorum';
  if (request.kind !== 'reset') return pass(name, 'not applicable');
  const r = target(status, request);
  if (!r) return fail(name, `no replica named ${request.replica}`);
  const parts: string[] = [];
  for (const c of ETCD_CLUSTERS) {
    const m = r.etcd[c];
    const voters = status.replicas.filter((x) => isVoter(x.etcd[c])).length;
    const healthy = status.replicas.filter((x) => isHealthyVoter(x.etcd[c])).length;
    const q = quorumOf(voters);
    if (!isVoter(m)) {
      parts.push(`etcd ${c}: not a voter`);
      continue;
    }
    if (healthy < q) {
      parts.push(
        `etcd ${c} has already lost quorum (${healthy} of ${voters} voters healthy): a reset cannot make it worse`,
      );
      continue;
    }
    if (!isHealthyVoter(m)) {
      parts.push(`etcd ${c}: ${healthy} of ${voters} healthy without it, ${q} needed`);
      continue;
    }
    if (healthy - 1 < q)
      return fail(
        name,
        `etcd ${c} depends on ${r.name} for quorum: while it reboots ${healthy - 1} of ${voters} voters would be healthy, ${q} needed (repair the other replicas first; --force does not override this)`,
      );
    parts.push(`etcd ${c}: ${healthy - 1} of ${voters} healthy while it reboots, ${q} needed`);
  }
  return pass(name, parts.join('; '));
};

/** Where the lock is held: in etcd main as every operation, or the fallback when main has no quorum. */
export const remedyLockPlace: Check = (status, request) => {
  const name = 'operation-lock';
  return pass(name, describeLockPlace(lockPlaceFor(status, request.kind)));
};
