// The invariants the plan simulator checks: after every change the tool
// makes, no etcd cluster loses quorum through it and no VM goes while its
// member is in etcd; at the end of an operation, the resources agree with
// each other. Pure.
import { ETCD_CLUSTERS, type EtcdClusterName } from '../types.js';
import { diskNameOf, internalAddressName } from './plan.js';
import { type QuorumCount, quorumCount, type SimState } from './simulate-state.js';

export type InvariantId = 'quorum' | 'vm-of-member' | 'consistent' | 'leftovers';

export interface Violation {
  invariant: InvariantId;
  message: string;
}

/** What (a) and (b) need of the state before a change: cheaper than a copy of it. */
export interface EffectSnapshot {
  vms: string[];
  quorum: Record<EtcdClusterName, QuorumCount>;
}

export function effectSnapshot(s: SimState): EffectSnapshot {
  return {
    vms: [...s.vms.keys()],
    quorum: { main: quorumCount(s, 'main'), events: quorumCount(s, 'events') },
  };
}

/**
 * (a) and (b), for one change the tool made (`what`), given the state just
 * before and just after it. Quorum is judged on the members that are healthy
 * (a member the scenario made fail counts as unhealthy): the tool must never
 * turn a cluster that had quorum into one that has not. A scenario that
 * breaks quorum by itself (a member failing in a 2-voter cluster) is not the
 * tool's doing and is not reported here.
 */
export function effectViolations(before: EffectSnapshot, after: SimState, what: string): Violation[] {
  const out: Violation[] = [];
  for (const c of ETCD_CLUSTERS) {
    const b = before.quorum[c];
    const a = quorumCount(after, c);
    if (b.held && !a.held) {
      out.push({
        invariant: 'quorum',
        message: `${what}: etcd ${c} lost quorum (${a.healthyVoters} healthy of ${a.voters} voters, ${a.quorum} needed; before: ${b.healthyVoters} of ${b.voters})`,
      });
    }
  }
  for (const name of before.vms) {
    if (after.vms.has(name)) continue;
    // One change at a time: the step that deleted the VM did not change membership.
    for (const c of ETCD_CLUSTERS) {
      const m = after.members[c].get(name);
      if (m) {
        out.push({
          invariant: 'vm-of-member',
          message: `${what}: VM ${name} deleted while it is a ${m.voter ? 'voter' : 'learner'} of etcd ${c}`,
        });
      }
    }
  }
  return out;
}

/**
 * (c) What disagrees in a state that should be at rest: members of both
 * clusters == VMs (all voters) == target pool members with 2+ replicas (and
 * the forwarding rule); with one replica, the static IP on its VM and no
 * pool or rule; a disk for every VM and none without one (but a removed
 * member's disk, which stays until the operation is done, or for good with
 * --keep-disk); internal
 * addresses (peers by IP) for every VM and none without one; no health check.
 */
export function consistencyProblems(s: SimState, keptDisks: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const vms = [...s.vms.keys()].sort();
  const vmSet = new Set(vms);
  if (vms.length === 0) out.push('no VM left');
  for (const c of ETCD_CLUSTERS) {
    for (const [name, m] of s.members[c]) {
      if (!vmSet.has(name)) out.push(`etcd ${c} member ${name} has no VM`);
      else if (!m.voter) out.push(`etcd ${c} member ${name} is still a learner`);
    }
    for (const name of vms) if (!s.members[c].has(name)) out.push(`VM ${name} is not in etcd ${c}`);
  }
  const disks = new Set(vms.map(diskNameOf));
  for (const d of s.disks) if (!disks.has(d) && !keptDisks.has(d)) out.push(`orphaned disk ${d}`);
  for (const d of disks) if (!s.disks.has(d)) out.push(`VM without its data disk ${d}`);
  const addrs = new Set(s.peerStyle === 'ip' ? vms.map(internalAddressName) : []);
  for (const a of s.addresses) if (!addrs.has(a)) out.push(`orphaned internal address ${a}`);
  for (const a of addrs) if (!s.addresses.has(a)) out.push(`VM without its internal address ${a}`);
  if (s.healthCheck) out.push('orphaned health check');
  if (vms.length >= 2) {
    if (!s.rule) out.push(`${vms.length} replicas but no forwarding rule`);
    if (!s.pool) out.push(`${vms.length} replicas but no target pool`);
    else {
      for (const p of s.pool) if (!vmSet.has(p)) out.push(`target pool lists ${p}, not a replica VM`);
      for (const v of vms) if (!s.pool.has(v)) out.push(`${v} is not in the target pool`);
    }
    if (s.staticIPOn) out.push(`the static IP is on ${s.staticIPOn}, not on the forwarding rule`);
  } else if (vms.length === 1) {
    if (s.rule) out.push('one replica but a forwarding rule');
    if (s.pool) out.push('one replica but a target pool');
    if (s.staticIPOn !== vms[0]) out.push(`the static IP is on ${s.staticIPOn ?? 'nothing'}, not ${vms[0]}`);
  }
  if (!s.rule && s.pool) out.push('orphaned target pool (no forwarding rule)');
  return out;
}
