// The resources a plan changes, as a plain value the plan simulator can copy,
// change and compare: VMs, data disks, internal addresses, etcd members of
// main and events, the target pool, the forwarding rule and where the static
// apiserver IP is. Pure; built from an observed ClusterStatus.
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import { diskNameOf, internalAddressName, type PeerStyle, peerStyleOf } from './plan.js';

export interface SimVm {
  zone: string;
}

export interface SimMember {
  /** false: a learner (it does not vote). */
  voter: boolean;
}

export interface SimState {
  peerStyle: PeerStyle;
  /** VMs that exist (RUNNING), by name. */
  vms: Map<string, SimVm>;
  /** Data disks (`<replica>-pd`) that exist. */
  disks: Set<string>;
  /** Reserved internal addresses (`<replica>-internal-ip`) that exist. */
  addresses: Set<string>;
  /** etcd members by replica name. */
  members: Record<EtcdClusterName, Map<string, SimMember>>;
  /**
   * Replicas whose etcd processes do not answer: unhealthy at the start, or
   * made to fail by the scenario. A member is healthy when its VM exists and
   * its replica is not here.
   */
  down: Set<string>;
  /**
   * VMs reset or started by a remedy whose members have not answered yet:
   * down until a wait step sees them back (a reboot cures a hung VM).
   */
  booting: Set<string>;
  /** Target pool members; null: no target pool. */
  pool: Set<string> | null;
  /** A legacy health check (plans journalled by earlier versions create one). */
  healthCheck: boolean;
  /** The forwarding rule exists (it holds the static IP). */
  rule: boolean;
  /** The VM whose access config holds the static IP, or null. */
  staticIPOn: string | null;
}

export function cloneState(s: SimState): SimState {
  return {
    peerStyle: s.peerStyle,
    vms: new Map([...s.vms].map(([k, v]) => [k, { ...v }])),
    disks: new Set(s.disks),
    addresses: new Set(s.addresses),
    members: {
      main: new Map([...s.members.main].map(([k, v]) => [k, { ...v }])),
      events: new Map([...s.members.events].map(([k, v]) => [k, { ...v }])),
    },
    down: new Set(s.down),
    booting: new Set(s.booting),
    pool: s.pool ? new Set(s.pool) : null,
    healthCheck: s.healthCheck,
    rule: s.rule,
    staticIPOn: s.staticIPOn,
  };
}

export function memberHealthy(s: SimState, replica: string): boolean {
  return s.vms.has(replica) && !s.down.has(replica);
}

export interface QuorumCount {
  voters: number;
  healthyVoters: number;
  quorum: number;
  held: boolean;
}

/** Quorum over voters only: a learner does not vote; quorum = floor(voters/2)+1. */
export function quorumCount(s: SimState, cluster: EtcdClusterName): QuorumCount {
  let voters = 0;
  let healthyVoters = 0;
  for (const [name, m] of s.members[cluster]) {
    if (!m.voter) continue;
    voters++;
    if (memberHealthy(s, name)) healthyVoters++;
  }
  const quorum = voters > 0 ? Math.floor(voters / 2) + 1 : 0;
  return { voters, healthyVoters, quorum, held: voters > 0 && healthyVoters >= quorum };
}

/**
 * The simulated resources of an observed cluster. Members not healthy in the
 * status are down; with peers addressed by IP, every replica is taken to have
 * its reserved internal address (as one added by a plan has).
 */
export function simStateOf(status: ClusterStatus): SimState {
  const peerStyle = peerStyleOf(status);
  const s: SimState = {
    peerStyle,
    vms: new Map(),
    disks: new Set(),
    addresses: new Set(),
    members: { main: new Map(), events: new Map() },
    down: new Set(),
    booting: new Set(),
    pool: null,
    healthCheck: false,
    rule: false,
    staticIPOn: null,
  };
  for (const r of status.replicas) {
    if (r.zone && r.vm.status !== 'MISSING') s.vms.set(r.name, { zone: r.zone });
    if (r.zone) s.disks.add(diskNameOf(r.name));
    if (peerStyle === 'ip') s.addresses.add(internalAddressName(r.name));
    for (const c of ETCD_CLUSTERS) {
      const m = r.etcd[c];
      if (!m) continue;
      s.members[c].set(r.name, { voter: !m.learner });
      if (!m.healthy) s.down.add(r.name);
    }
    if (r.vm.status !== 'RUNNING' && r.vm.status !== 'UNKNOWN') s.down.add(r.name);
  }
  const lb = status.loadBalancer;
  if (lb) {
    s.rule = true;
    s.pool = lb.targetPool ? new Set(lb.instances) : null;
  }
  const on = status.apiserverIP?.attachedTo ?? null;
  s.staticIPOn = on && on !== 'load-balancer' ? on : null;
  return s;
}

/** A canonical, comparable description (sorted), for equality and messages. */
export function describeState(s: SimState): Record<string, unknown> {
  const sorted = (xs: Iterable<string>) => [...xs].sort();
  const members = (c: EtcdClusterName) =>
    sorted([...s.members[c]].map(([n, m]) => (m.voter ? n : `${n} (learner)`)));
  return {
    vms: sorted(s.vms.keys()),
    disks: sorted(s.disks),
    addresses: sorted(s.addresses),
    main: members('main'),
    events: members('events'),
    pool: s.pool ? sorted(s.pool) : null,
    healthCheck: s.healthCheck,
    rule: s.rule,
    staticIPOn: s.staticIPOn,
  };
}

const described = new WeakMap<SimState, string>();

/** describeState as a string; a state's is kept while the state is not changed (initial states are not). */
function key(s: SimState, keep: boolean): string {
  const known = keep ? described.get(s) : undefined;
  if (known) return known;
  const k = JSON.stringify(describeState(s));
  if (keep) described.set(s, k);
  return k;
}

/** Same resources (not comparing which members are down); `reference` is a state never changed. */
export function sameResources(s: SimState, reference: SimState): boolean {
  return key(s, false) === key(reference, true);
}
