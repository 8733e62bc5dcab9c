// What each step's runner (src/ops/runners/) does to the resources, as the
// plan simulator models it: the forward effect, the undo, and the `absent`
// check made after a failure. Each looks first at what exists (runners are
// idempotent) and refuses where the runner, etcd or Compute would: a member
// removal that would cost quorum, a membership change without quorum, a disk
// or address still used by a VM, a pool still used by a forwarding rule.
// Effects change the state and the facts in place, and only when they succeed.
import type { EtcdClusterName } from '../types.js';
import { diskNameOf, internalAddressName, type PlanStep, peerURL, type StepKind } from './plan.js';
import { memberHealthy, quorumCount, type SimState } from './simulate-state.js';

export type StepResult = { ok: true; skipped?: boolean; note: string } | { ok: false; error: string };

type Facts = Record<string, string>;
type StepOf<K extends StepKind> = Extract<PlanStep, { kind: K }>;

const ok = (note = ''): StepResult => ({ ok: true, note });
const fail = (error: string): StepResult => ({ ok: false, error });

const memberFact = (c: EtcdClusterName) => `member.${c}`;
const peerFact = (c: EtcdClusterName) => `peerURL.${c}`;
const POOL_CHECKS_FACT = 'lb.poolHealthChecks';

/** The internal IP a reserved address gets (any stable value: only its presence matters). */
export const internalIPOf = (replica: string) => `ip:${replica}`;

// ------------------------------------------------------------------ etcd

/** Membership changes are committed by a quorum: without one, etcd answers nothing. */
function membershipRefusal(s: SimState, c: EtcdClusterName, exclude: string | null): string | null {
  const q = quorumCount(s, c);
  if (!q.held) return `etcd ${c} has no quorum (${q.healthyVoters} of ${q.voters} voters healthy)`;
  // pickHealthy: the request goes through another member that answers.
  const via = [...s.members[c].keys()].some((n) => n !== exclude && memberHealthy(s, n));
  if (!via) return `no healthy member of etcd ${c} to send the change through`;
  return null;
}

/** The runner's removeMember: KubeadmControlPlane's rule on a fresh look, then the removal. */
function removeMember(s: SimState, c: EtcdClusterName, replica: string): StepResult {
  const m = s.members[c].get(replica);
  if (!m) return ok('not a member (already removed)');
  const refused = membershipRefusal(s, c, replica);
  if (refused) return fail(refused);
  if (m.voter) {
    const q = quorumCount(s, c);
    const votersLeft = q.voters - 1;
    const healthyLeft = q.healthyVoters - (memberHealthy(s, replica) ? 1 : 0);
    const needed = Math.floor(votersLeft / 2) + 1;
    if (votersLeft < 1 || healthyLeft < needed) {
      return fail(
        `removing ${replica} from etcd ${c} now would leave ${healthyLeft} healthy of ${votersLeft} voters (${needed} needed): refused`,
      );
    }
  }
  s.members[c].delete(replica);
  return ok(`removed ${replica}${m.voter ? '' : ' (learner)'}`);
}

/** The learner's peer URL: by name, or by the reserved internal IP (a fact of the reserve step). */
function learnerURL(step: StepOf<'etcd.add-learner'>, facts: Facts): string | null {
  const host = step.args.host ?? facts.internalIP;
  return host ? peerURL(step.args.peer, host) : null;
}

/** Whether the runner can tell which member is the new one (etcd.find by ID or peer URL). */
function knowsMember(c: EtcdClusterName, facts: Facts): boolean {
  return Boolean(facts[memberFact(c)] ?? facts[peerFact(c)]);
}

function addLearner(step: StepOf<'etcd.add-learner'>, s: SimState, facts: Facts): StepResult {
  const { cluster: c, replica } = step.args;
  const url = learnerURL(step, facts);
  if (!url) return fail(`no internal IP reserved for ${replica} (the reserve step has not run)`);
  facts[peerFact(c)] = url;
  const existing = s.members[c].get(replica);
  if (existing) {
    facts[memberFact(c)] = `${c}/${replica}`;
    return ok(`already a member${existing.voter ? '' : ' (learner)'}`);
  }
  const refused = membershipRefusal(s, c, null);
  if (refused) return fail(refused);
  s.members[c].set(replica, { voter: false });
  facts[memberFact(c)] = `${c}/${replica}`;
  return ok(`learner ${url}`);
}

function undoLearner(step: StepOf<'etcd.add-learner'>, s: SimState, facts: Facts): StepResult {
  const { cluster: c, replica } = step.args;
  // As the runner: the saved URL, else rebuilt from the name or the reserved IP.
  const url = facts[peerFact(c)] ?? learnerURL(step, facts);
  if (!facts[memberFact(c)] && !url) return ok('never added');
  return removeMember(s, c, replica);
}

function caughtUp(step: StepOf<'etcd.wait-caught-up'>, s: SimState, facts: Facts): StepResult {
  const { cluster: c, replica } = step.args;
  const m = knowsMember(c, facts) ? s.members[c].get(replica) : undefined;
  if (!m) return fail(`the learner for ${replica} is not a member of etcd ${c}`);
  if (m.voter) return ok('already a voter');
  if (!memberHealthy(s, replica)) return fail(`${replica} catching up in etcd ${c}: not done (no answer)`);
  return ok('caught up');
}

function promote(step: StepOf<'etcd.promote'>, s: SimState, facts: Facts): StepResult {
  const { cluster: c, replica } = step.args;
  const m = knowsMember(c, facts) ? s.members[c].get(replica) : undefined;
  if (!m) return fail(`the learner for ${replica} is not a member of etcd ${c}`);
  if (m.voter) return ok('already a voter');
  const refused = membershipRefusal(s, c, null);
  if (refused) return fail(refused);
  // etcd promotes only a learner in sync with the leader, and only if the
  // voters, one more, still have a started quorum (its strict reconfig check).
  if (!memberHealthy(s, replica)) return fail(`learner ${replica} not in sync with leader`);
  const q = quorumCount(s, c);
  if (q.healthyVoters + 1 < Math.floor((q.voters + 1) / 2) + 1) return fail('unhealthy cluster');
  m.voter = true;
  return ok(`voter ${replica}`);
}

/**
 * The defrag runner's rule (src/ops/runners/defrag.ts): the member answers,
 * and while it is blocked the other voters hold a quorum (3+ voters), or
 * every other one answers (1 or 2, where none can).
 */
function defragMember(step: StepOf<'etcd.defrag'>, s: SimState): StepResult {
  const { cluster: c, replica } = step.args;
  const m = s.members[c].get(replica);
  if (!m) return fail(`${replica} is no longer in etcd ${c}`);
  if (!memberHealthy(s, replica)) return fail(`${replica}'s etcd ${c} member does not answer`);
  const others = [...s.members[c]].filter(([n, x]) => n !== replica && x.voter).map(([n]) => n);
  const healthy = others.filter((n) => memberHealthy(s, n)).length;
  const voters = others.length + (m.voter ? 1 : 0);
  const quorum = Math.floor(voters / 2) + 1;
  const enough = voters >= 3 ? healthy >= quorum : healthy === others.length;
  return enough
    ? ok('defragmented')
    : fail(`only ${healthy} of ${others.length} other voters answer: refused`);
}

// ------------------------------------------------------------------ compute

const usesDisk = (s: SimState, disk: string) => [...s.vms.keys()].some((v) => diskNameOf(v) === disk);
const usesAddress = (s: SimState, addr: string) =>
  [...s.vms.keys()].some((v) => internalAddressName(v) === addr);

function deleteDisk(s: SimState, disk: string): StepResult {
  if (!s.disks.has(disk)) return ok('no such disk');
  if (usesDisk(s, disk)) return fail(`disk ${disk} is in use by a VM`);
  s.disks.delete(disk);
  return ok();
}

function deleteAddress(s: SimState, addr: string): StepResult {
  if (!s.addresses.has(addr)) return ok('no such address');
  if (usesAddress(s, addr)) return fail(`address ${addr} is in use by a VM`);
  s.addresses.delete(addr);
  return ok();
}

function deleteVm(s: SimState, name: string): StepResult {
  if (!s.vms.has(name)) return ok('already gone');
  s.vms.delete(name);
  if (s.staticIPOn === name) s.staticIPOn = null;
  return ok();
}

function deletePool(s: SimState): StepResult {
  if (!s.pool) return ok('already gone');
  if (s.rule) return fail('the target pool is in use by the forwarding rule');
  s.pool = null;
  return ok();
}

function poolAdd(s: SimState, replica: string): StepResult {
  if (!s.pool) return fail('the target pool does not exist');
  if (s.pool.has(replica)) return ok('already in the pool');
  if (!s.vms.has(replica)) return fail(`VM ${replica} does not exist`);
  s.pool.add(replica);
  return ok();
}

function poolRemove(s: SimState, replica: string): StepResult {
  if (!s.pool?.has(replica)) return ok('not in the pool');
  s.pool.delete(replica);
  return ok();
}

/** The static IP onto a VM's access config: GCE refuses while the forwarding rule holds it. */
function attachIP(s: SimState, replica: string): StepResult {
  if (!s.vms.has(replica)) return fail(`VM ${replica} does not exist`);
  if (s.staticIPOn === replica) return ok(`${replica} already holds the static IP`);
  if (s.rule) return fail('the static IP is in use by the forwarding rule');
  s.staticIPOn = replica;
  return ok();
}

/**
 * instances.reset / instances.start: the VM reboots, so its members stop
 * answering (a reset of a healthy voter costs its vote until it is back)
 * and answer again once a wait step sees them.
 */
function bootVm(s: SimState, name: string, reset: boolean, facts: Facts): StepResult {
  if (!s.vms.has(name)) return fail(`VM ${name} not found`);
  if (reset) s.down.add(name);
  s.booting.add(name);
  facts.instanceIP = `vm:${name}`;
  return ok(reset ? 'reset, RUNNING' : 'started, RUNNING');
}

/**
 * The reset runner's fresh look first (it may run again on a resume, after
 * the member came back): a replica healthy now is not reset unless forced,
 * and never one a cluster with quorum depends on.
 */
function resetVm(s: SimState, name: string, force: boolean, facts: Facts): StepResult {
  if (!s.vms.has(name)) return fail(`VM ${name} not found`);
  if (!force && memberHealthy(s, name)) return { ok: true, skipped: true, note: 'healthy now: not reset' };
  if (memberHealthy(s, name)) {
    for (const c of ['main', 'events'] as const) {
      const q = quorumCount(s, c);
      if (s.members[c].get(name)?.voter && q.held && q.healthyVoters - 1 < q.quorum)
        return fail(`etcd ${c} depends on ${name} for quorum: not reset`);
    }
  }
  return bootVm(s, name, true, facts);
}

/** The remedy's wait: the same member answering again (with a leader when asked for health). */
function memberBack(step: StepOf<'etcd.wait-member-healthy'>, s: SimState): StepResult {
  const { cluster: c, replica, until } = step.args;
  if (!s.members[c].has(replica)) return fail(`${replica} is no longer a member of etcd ${c}`);
  if (s.booting.has(replica) && s.vms.has(replica)) {
    s.booting.delete(replica);
    s.down.delete(replica);
  }
  if (!memberHealthy(s, replica)) return fail(`${replica}'s etcd ${c} member did not answer`);
  if (until === 'healthy' && !quorumCount(s, c).held) return fail(`etcd ${c} has no leader`);
  return ok('answers');
}

/** What verifyProblems (src/ops/runners/verify.ts) would still find. */
function verifyProblems(step: StepOf<'verify'>, s: SimState): string[] {
  const want = new Set(step.args.replicas);
  const out: string[] = [];
  const present = new Set([...s.vms.keys(), ...s.members.main.keys(), ...s.members.events.keys()]);
  for (const n of want) if (!present.has(n)) out.push(`${n} missing`);
  for (const n of present) {
    if (!want.has(n)) {
      out.push(`${n} still present`);
      continue;
    }
    if (!s.vms.has(n)) out.push(`${n} VM MISSING`);
    for (const c of ['main', 'events'] as const) {
      const m = s.members[c].get(n);
      if (!m) out.push(`${n} not in etcd ${c}`);
      else if (!m.voter) out.push(`${n} still a learner in etcd ${c}`);
      else if (!memberHealthy(s, n)) out.push(`${n} unhealthy in etcd ${c}`);
    }
  }
  if (step.args.loadBalancer) {
    if (!s.rule) out.push('no forwarding rule');
    else {
      const pool = s.pool ?? new Set<string>();
      for (const n of want) if (!pool.has(n)) out.push(`${n} not in the target pool`);
      for (const n of pool) if (!want.has(n)) out.push(`${n} still in the target pool`);
    }
  } else {
    if (s.rule) out.push('the forwarding rule still exists');
    const only = [...want][0];
    if (s.staticIPOn !== only) out.push(`the static IP is on ${s.staticIPOn ?? 'nothing'}, not ${only}`);
  }
  return out;
}

// ------------------------------------------------------------------ per kind

/** The step's forward effect; on failure nothing changed. */
export function runForward(step: PlanStep, s: SimState, facts: Facts): StepResult {
  switch (step.kind) {
    case 'etcd.snapshot':
      // A read of the cluster: it needs a leader, and changes nothing.
      return quorumCount(s, step.args.cluster).held
        ? ok('saved')
        : fail(`etcd ${step.args.cluster} has no quorum`);
    case 'etcd.compact':
    case 'etcd.disarm':
      // Compaction and the disarm are proposals: a quorum commits them; no resource changes.
      return quorumCount(s, step.args.cluster).held ? ok() : fail(`etcd ${step.args.cluster} has no quorum`);
    case 'etcd.defrag':
      return defragMember(step, s);
    case 'etcd.verify-space': {
      const c = step.args.cluster;
      const down = [...s.members[c].keys()].filter((n) => !memberHealthy(s, n));
      if (!quorumCount(s, c).held) return fail(`etcd ${c} has no quorum`);
      return down.length ? fail(`not answering: ${down.join(', ')}`) : ok('verified');
    }
    case 'lb.create-health-check':
      s.healthCheck = true;
      return ok();
    case 'lb.create-target-pool': {
      if (s.pool) {
        for (const i of step.args.instances) s.pool.add(i.name);
        return ok('already exists');
      }
      s.pool = new Set(step.args.instances.map((i) => i.name));
      if (step.args.healthCheck) s.healthCheck = true;
      return ok();
    }
    case 'lb.detach-static-ip': {
      const name = step.args.replica.name;
      if (s.staticIPOn !== name || !s.vms.has(name)) return ok(`${name} does not hold the static IP`);
      s.staticIPOn = null;
      return ok();
    }
    case 'lb.create-forwarding-rule':
      if (s.rule) return ok('already exists');
      if (s.staticIPOn) return fail(`the static IP is in use by ${s.staticIPOn}`);
      if (!s.pool) return fail(`target pool ${step.args.pool} does not exist`);
      s.rule = true;
      return ok();
    case 'lb.wait-ready': {
      if (!s.rule) return fail(`forwarding rule ${step.args.forwardingRule} does not exist`);
      const answers = [...(s.pool ?? [])].some((n) => s.vms.has(n) && !s.down.has(n));
      return answers ? ok('answered') : fail('the load balancer did not answer');
    }
    case 'address.reserve-internal':
      s.addresses.add(step.args.name);
      facts.internalIP = internalIPOf(step.args.replica);
      return ok();
    case 'disk.create':
      if (s.disks.has(step.args.name)) return ok('already exists');
      s.disks.add(step.args.name);
      return ok();
    case 'etcd.add-learner':
      return addLearner(step, s, facts);
    case 'instance.insert': {
      const a = step.args;
      if (!s.vms.has(a.name)) {
        if (!s.vms.has(a.source.name)) return fail(`source VM ${a.source.name} is gone`);
        if (a.internalAddress && !facts.internalIP && !s.addresses.has(a.internalAddress))
          return fail(`internal address ${a.internalAddress} is not reserved`);
        if (!s.disks.has(diskNameOf(a.name))) return fail(`disk ${diskNameOf(a.name)} does not exist`);
        s.vms.set(a.name, { zone: a.zone });
      }
      facts.instanceIP = `vm:${a.name}`;
      return ok();
    }
    case 'etcd.wait-caught-up':
      return caughtUp(step, s, facts);
    case 'etcd.promote':
      return promote(step, s, facts);
    case 'apiserver.wait-healthy': {
      const name = step.args.replica;
      if (!facts.instanceIP) return { ok: true, skipped: true, note: 'no apiserver health endpoint' };
      // kube-apiserver's /healthz needs its VM, its processes and etcd main's quorum.
      const up = s.vms.has(name) && !s.down.has(name) && quorumCount(s, 'main').held;
      return up ? ok('healthz ok') : fail(`${name}'s apiserver is not healthy`);
    }
    case 'lb.add-instance':
      return poolAdd(s, step.args.replica.name);
    case 'etcd.move-leader':
      // Leadership is not modelled: moving it changes no membership.
      return ok('not modelled');
    case 'lb.remove-instance':
      return poolRemove(s, step.args.replica.name);
    case 'etcd.remove-member':
      return removeMember(s, step.args.cluster, step.args.replica);
    case 'instance.delete':
      return deleteVm(s, step.args.name);
    case 'disk.delete':
      return deleteDisk(s, step.args.name);
    case 'address.delete':
      return deleteAddress(s, step.args.name);
    case 'lb.delete-forwarding-rule':
      s.rule = false;
      return ok();
    case 'lb.attach-static-ip':
      return attachIP(s, step.args.replica.name);
    case 'lb.delete-target-pool': {
      if (s.pool) facts[POOL_CHECKS_FACT] = s.healthCheck ? 'legacy' : '';
      return deletePool(s);
    }
    case 'lb.delete-health-check': {
      const had = facts[POOL_CHECKS_FACT];
      if (had === '') return { ok: true, skipped: true, note: 'the target pool had no health check' };
      s.healthCheck = false;
      return ok();
    }
    case 'verify': {
      const problems = verifyProblems(step, s);
      return problems.length ? fail(`verification: ${problems.join('; ')}`) : ok('verified');
    }
    case 'instance.reset':
      return resetVm(s, step.args.name, step.args.force, facts);
    case 'instance.start':
      return bootVm(s, step.args.name, false, facts);
    case 'etcd.wait-member-healthy':
      return memberBack(step, s);
  }
}

/**
 * What a failing runner did before it failed: the learner step writes its
 * peer URL fact first. Applied for a step made to fail before its effect.
 */
export function prelude(step: PlanStep, facts: Facts): void {
  if (step.kind !== 'etcd.add-learner') return;
  const url = learnerURL(step, facts);
  if (url) facts[peerFact(step.args.cluster)] = url;
}

const UNDOABLE: ReadonlySet<StepKind> = new Set<StepKind>([
  'lb.create-health-check',
  'lb.create-target-pool',
  'lb.detach-static-ip',
  'lb.create-forwarding-rule',
  'address.reserve-internal',
  'disk.create',
  'etcd.add-learner',
  'instance.insert',
  'lb.add-instance',
  'lb.remove-instance',
]);

/** Whether the kind's runner has an undo (the others are "undone" by doing nothing). */
export function hasUndo(kind: StepKind): boolean {
  return UNDOABLE.has(kind);
}

/** The step's undo; null when its runner has none (the executor notes "nothing to undo"). */
export function runUndo(step: PlanStep, s: SimState, facts: Facts): StepResult | null {
  if (!hasUndo(step.kind)) return null;
  switch (step.kind) {
    case 'lb.create-health-check':
      s.healthCheck = false;
      return ok();
    case 'lb.create-target-pool':
      return deletePool(s);
    case 'lb.detach-static-ip':
      return attachIP(s, step.args.replica.name);
    case 'lb.create-forwarding-rule':
      s.rule = false;
      return ok();
    case 'address.reserve-internal':
      return deleteAddress(s, step.args.name);
    case 'disk.create':
      return deleteDisk(s, step.args.name);
    case 'etcd.add-learner':
      return undoLearner(step, s, facts);
    case 'instance.insert':
      return deleteVm(s, step.args.name);
    case 'lb.add-instance':
      return poolRemove(s, step.args.replica.name);
    case 'lb.remove-instance':
      if (!s.pool) return fail(`target pool ${step.args.pool} is gone`);
      return poolAdd(s, step.args.replica.name);
    default:
      return null;
  }
}

/** The runner's `absent` after a failure: true when verifiably nothing changed; null: no such check. */
export function absent(step: PlanStep, s: SimState, facts: Facts): boolean | null {
  switch (step.kind) {
    case 'lb.create-health-check':
      return !s.healthCheck;
    case 'lb.create-target-pool':
      return s.pool === null;
    case 'lb.create-forwarding-rule':
      return !s.rule;
    case 'address.reserve-internal':
      return !s.addresses.has(step.args.name);
    case 'disk.create':
      return !s.disks.has(step.args.name);
    case 'etcd.add-learner':
      return (
        !(facts[peerFact(step.args.cluster)] ?? learnerURL(step, facts)) ||
        !s.members[step.args.cluster].has(step.args.replica)
      );
    case 'instance.insert':
      return !s.vms.has(step.args.name);
    case 'etcd.remove-member':
      // The runner's check: the member is still there, so the removal did not happen.
      return s.members[step.args.cluster].has(step.args.replica);
    default:
      return null;
  }
}
