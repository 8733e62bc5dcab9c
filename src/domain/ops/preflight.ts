// Preflight checks, after Cluster API's KubeadmControlPlane: each a small
// named function that returns a reason a person can read, passed or not. Any
// failed check refuses the operation before anything changes (exit 3).
import { isReplicaName, regionOfZone } from '../names.js';
import { canRemoveVoter } from '../quorum.js';
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { SourceInspection } from './clone.js';
import type { LockRecord } from './lock.js';
import { describeLock } from './lock.js';
import { cloneSource } from './plan.js';
import { DEFRAG_CHECKS } from './preflight-defrag.js';
import {
  noVmSettling,
  remedyLockPlace,
  resetKeepsQuorum,
  resetOnlyUnhealthy,
  vmStatusFits,
} from './preflight-remedy.js';
import type { OpKind, OpRequest } from './request.js';
import { isHealthyVoter, isVoter, replicaHealthy, resolveReplica, unhealthyReasons } from './resolve.js';

export interface UnfinishedOperation {
  operationId: string;
  summary: string;
  state: string;
}

/** A file in the journal directory that cannot be read as a journal. */
export interface UnreadableJournal {
  path: string;
  /** From the file name (`<id>.json`); null when the directory itself cannot be listed. */
  operationId: string | null;
  reason: string;
}

export interface PreflightContext {
  /** Zones of the cluster's region as Compute lists them; null = not known. */
  zonesInRegion: string[] | null;
  /** The holder of the cluster-wide operation lock, if any. */
  lock: LockRecord | null;
  /** An operation journal in the state dir that did not finish. */
  unfinished: UnfinishedOperation | null;
  /** Journal files that cannot be read; absent = not looked at. */
  unreadableJournals?: UnreadableJournal[];
  /** The clone source's VM as Compute describes it (add, replace); absent = not inspected. */
  source?: SourceInspection | null;
  now?: Date;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  reason: string;
}

export type Check = (status: ClusterStatus, request: OpRequest, ctx: PreflightContext) => CheckResult;

const pass = (name: string, reason: string): CheckResult => ({ name, ok: true, reason });
const fail = (name: string, reason: string): CheckResult => ({ name, ok: false, reason });

export const computeReachable: Check = (status) => {
  const name = 'compute-reachable';
  const err = status.warnings.find((w) => w.code === 'GCE_UNREACHABLE');
  if (err) return fail(name, `${err.message}: operations need the Compute API`);
  if (!status.sources.gce || !status.project || !status.region) {
    return fail(name, 'no Compute API target (pass --project and --region, or --lab): operations change VMs');
  }
  return pass(name, `Compute API answers for ${status.project}/${status.region}`);
};

export const etcdReachable: Check = (status) => {
  const name = 'etcd-reachable';
  for (const c of ETCD_CLUSTERS) {
    const h = status.etcd[c];
    if (!h.observed) return fail(name, `etcd ${c} is not configured: operations change its membership`);
    if (h.error) return fail(name, `etcd ${c}: ${h.error}`);
  }
  return pass(name, 'etcd main and events answer');
};

function unhealthyList(status: ClusterStatus): string[] {
  return status.replicas
    .filter((r) => !replicaHealthy(r))
    .map((r) => `${r.name} (${unhealthyReasons(r).join('; ')})`);
}

/**
 * Add needs every replica healthy: adding a voter while one is down raises
 * quorum with no spare. Remove and replace need a quorum with a leader now;
 * the removal rule below decides the rest.
 */
export const clusterHealthy: Check = (status, request) => {
  const name = 'cluster-healthy';
  for (const c of ETCD_CLUSTERS) {
    const h = status.etcd[c];
    if (h.votingMembers === 0) return fail(name, `etcd ${c} has no voting members`);
    if (h.healthyVoters < h.quorum) {
      return fail(
        name,
        `etcd ${c} has lost quorum (${h.healthyVoters} of ${h.votingMembers} voters healthy, ${h.quorum} needed)`,
      );
    }
    if (!h.leaderId) return fail(name, `etcd ${c} has no leader`);
  }
  if (request.kind === 'add') {
    const bad = unhealthyList(status);
    if (bad.length) {
      return fail(
        name,
        `unhealthy: ${bad.join(', ')}; repair or replace it before adding (kube-ha replace --replica NAME)`,
      );
    }
    return pass(name, `all ${status.replicas.length} replicas healthy`);
  }
  const m = status.etcd.main;
  return pass(name, `etcd main ${m.healthyVoters}/${m.votingMembers} voters healthy, leader elected`);
};

/**
 * A learner means an add is running or was left unfinished; another
 * membership change would race it. Removing that very learner is the cleanup.
 */
export const noLearnerPresent: Check = (status, request) => {
  const name = 'no-learner';
  const target = request.kind === 'add' ? null : resolveReplica(status, request);
  const targetName = target?.ok ? target.replica.name : null;
  const learners: string[] = [];
  for (const r of status.replicas) {
    for (const c of ETCD_CLUSTERS) {
      if (r.etcd[c]?.learner && r.name !== targetName) learners.push(`${r.name} (etcd ${c})`);
    }
  }
  if (learners.length) {
    return fail(
      name,
      `learner present: ${learners.join(', ')}; finish or roll back that add first (kube-ha operation resume|rollback)`,
    );
  }
  return pass(name, 'no learner in etcd main or events');
};

export const noOperationInFlight: Check = (_status, _request, ctx) => {
  const name = 'no-operation-in-flight';
  if (ctx.lock) return fail(name, `another operation holds the lock: ${describeLock(ctx.lock, ctx.now)}`);
  return pass(name, 'no other console or script holds the operation lock');
};

export const noUnfinishedOperation: Check = (_status, _request, ctx) => {
  const name = 'no-unfinished-operation';
  const u = ctx.unfinished;
  if (u) {
    return fail(
      name,
      `operation ${u.operationId} (${u.summary}) is unfinished (${u.state}): kube-ha operation resume, or kube-ha operation rollback`,
    );
  }
  return pass(name, 'no unfinished operation in the journal');
};

/**
 * An unreadable journal may be the only record of an operation left half-done:
 * running another over it could undo or repeat what nobody can see. The
 * operator looks at it and discards it explicitly.
 */
export const journalsReadable: Check = (_status, _request, ctx) => {
  const name = 'journals-readable';
  const bad = ctx.unreadableJournals;
  if (!bad) return pass(name, 'journals not looked at');
  if (bad.length) {
    const first = bad[0]!;
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more: kube-ha operation status)` : '';
    const fix = first.operationId
      ? `inspect it, then kube-ha operation discard ${first.operationId} --confirm ${first.operationId}`
      : 'fix its permissions';
    return fail(name, `journal ${first.path} cannot be read: ${first.reason}${more}; ${fix}`);
  }
  return pass(name, 'every journal in the state dir is readable');
};

function targetZone(status: ClusterStatus, request: OpRequest): string | null {
  if (request.kind === 'add') return request.zone;
  if (request.kind === 'replace') {
    if (request.zone) return request.zone;
    const r = resolveReplica(status, request);
    return r.ok ? r.replica.zone : null;
  }
  return null;
}

export const zoneInRegion: Check = (status, request, ctx) => {
  const name = 'zone-in-region';
  if (request.kind === 'remove') return pass(name, 'not applicable to remove');
  const zone = targetZone(status, request);
  if (!zone)
    return fail(name, 'the zone of the replaced replica is not known (its VM is missing): pass --zone');
  if (!status.region) return fail(name, `the cluster's region is not known`);
  if (regionOfZone(zone) !== status.region) {
    return fail(
      name,
      `zone ${zone} is in region ${regionOfZone(zone)}, not the cluster's region ${status.region}`,
    );
  }
  if (ctx.zonesInRegion && !ctx.zonesInRegion.includes(zone)) {
    return fail(
      name,
      `zone ${zone} does not exist in ${status.region} (zones: ${ctx.zonesInRegion.join(', ')})`,
    );
  }
  return pass(name, `${zone} is in ${status.region}`);
};

export const replicaNameFree: Check = (status, request) => {
  const name = 'replica-name-free';
  if (request.kind !== 'add' || !request.name) return pass(name, "a new name by kube-up's rule");
  const master = status.masterName ?? '';
  if (!isReplicaName(master, request.name) || request.name === master) {
    return fail(
      name,
      `${request.name} does not follow kube-up's naming (${master}-xxx): other tools would not find it`,
    );
  }
  if (status.replicas.some((r) => r.name === request.name))
    return fail(name, `${request.name} already exists`);
  return pass(name, `${request.name} is free`);
};

export const replicaExists: Check = (status, request) => {
  const name = 'replica-exists';
  if (request.kind === 'add') return pass(name, 'not applicable to add');
  const r = resolveReplica(status, request);
  return r.ok
    ? pass(name, `${r.replica.name} in ${r.replica.zone ?? 'an unknown zone'}`)
    : fail(name, r.reason);
};

export const notLastMember: Check = (status, request) => {
  const name = 'not-last-member';
  if (request.kind === 'add') return pass(name, 'not applicable to add');
  const r = resolveReplica(status, request);
  if (!r.ok) return fail(name, r.reason);
  for (const c of ETCD_CLUSTERS) {
    const voters = status.replicas.filter((x) => isVoter(x.etcd[c]));
    if (voters.length === 1 && voters[0] === r.replica) {
      const what = request.kind === 'replace' ? 'replace' : 'remove';
      return fail(
        name,
        `${r.replica.name} is the last voter of etcd ${c}: cannot ${what} it (add a replica first)`,
      );
    }
  }
  if (status.replicas.length <= 1) return fail(name, `${r.replica.name} is the only replica`);
  return pass(name, `${status.replicas.length - 1} replicas remain`);
};

function removalRule(status: ClusterStatus, cluster: EtcdClusterName, target: string) {
  const voters = status.replicas.filter((r) => isVoter(r.etcd[cluster]));
  const removed = voters.find((r) => r.name === target);
  if (!removed) return null; // not a voter here: removing it does not touch quorum
  const healthy = voters.filter((r) => isHealthyVoter(r.etcd[cluster])).length;
  return canRemoveVoter(voters.length, healthy, isHealthyVoter(removed.etcd[cluster]));
}

/**
 * KubeadmControlPlane's rule: every other unhealthy member counts as lost;
 * the voters left must keep a healthy majority
 * (healthy left >= floor(voters left / 2) + 1).
 */
export const removalKeepsQuorum: Check = (status, request) => {
  const name = 'removal-keeps-quorum';
  if (request.kind === 'add') return pass(name, 'not applicable to add');
  const r = resolveReplica(status, request);
  if (!r.ok) return fail(name, r.reason);
  const parts: string[] = [];
  for (const c of ETCD_CLUSTERS) {
    const res = removalRule(status, c, r.replica.name);
    if (!res) {
      parts.push(`etcd ${c}: not a voter`);
      continue;
    }
    const line = `etcd ${c}: ${res.healthyLeft} healthy of ${res.votersLeft} voters left, ${res.needed} needed`;
    if (!res.ok) {
      return fail(
        name,
        `removing ${r.replica.name} would leave ${line}: repair the other unhealthy members first`,
      );
    }
    parts.push(line);
  }
  return pass(name, parts.join('; '));
};

export const replaceOnlyUnhealthy: Check = (status, request) => {
  const name = 'replace-only-unhealthy';
  if (request.kind !== 'replace') return pass(name, 'not applicable');
  const r = resolveReplica(status, request);
  if (!r.ok) return fail(name, r.reason);
  const reasons = unhealthyReasons(r.replica);
  if (reasons.length) return pass(name, `${r.replica.name} is unhealthy: ${reasons.join('; ')}`);
  if (request.force) return pass(name, `${r.replica.name} is healthy, replaced anyway (--force)`);
  return fail(
    name,
    `${r.replica.name} is healthy: replace only replaces a failed replica (use --force to replace it anyway)`,
  );
};

export const cloneSourceAvailable: Check = (status, request) => {
  const name = 'clone-source';
  if (request.kind === 'remove') return pass(name, 'not applicable to remove');
  const exclude = request.kind === 'replace' ? request.replica : null;
  const src = cloneSource(status, exclude);
  if (!src) return fail(name, 'no healthy running replica to copy the VM configuration from');
  return pass(name, `the new VM copies ${src.name}'s configuration`);
};

/**
 * What the clone needs from its source's VM: CA keys to issue the new
 * replica's own etcd certificates (a copy of the source's names the source),
 * and a boot image that still exists.
 */
export const cloneSourceUsable: Check = (_status, request, ctx) => {
  const name = 'clone-source-usable';
  if (request.kind === 'remove') return pass(name, 'not applicable to remove');
  const s = ctx.source;
  if (!s) return pass(name, 'source VM not inspected');
  if (s.error) return fail(name, `${s.source}: ${s.error}`);
  if (s.certs.kind === 'impossible') return fail(name, `${s.source}: ${s.certs.reason}`);
  if (s.image.kind === 'gone') return fail(name, `${s.source}: ${s.image.reason}`);
  const certs =
    s.certs.kind === 'issue'
      ? "its own etcd peer and server certificates, signed by the cluster's etcd CA"
      : 'no etcd certificates (the source has none)';
  return pass(name, `boot image ${s.image.image} exists; the new replica gets ${certs}`);
};

const COMMON: Check[] = [
  computeReachable,
  etcdReachable,
  noOperationInFlight,
  noUnfinishedOperation,
  journalsReadable,
];

/**
 * reset and start: also where etcd has lost quorum (they are its remedy), so
 * neither etcd-reachable nor cluster-healthy; the lock may be held elsewhere.
 */
const REMEDY_COMMON: Check[] = [
  computeReachable,
  remedyLockPlace,
  noOperationInFlight,
  noUnfinishedOperation,
  journalsReadable,
  replicaExists,
  vmStatusFits,
  noVmSettling,
];

export const CHECKS: Record<OpKind, Check[]> = {
  defrag: [...COMMON, ...DEFRAG_CHECKS],
  add: [
    ...COMMON,
    clusterHealthy,
    noLearnerPresent,
    zoneInRegion,
    replicaNameFree,
    cloneSourceAvailable,
    cloneSourceUsable,
  ],
  remove: [...COMMON, clusterHealthy, noLearnerPresent, replicaExists, notLastMember, removalKeepsQuorum],
  replace: [
    ...COMMON,
    clusterHealthy,
    noLearnerPresent,
    replicaExists,
    notLastMember,
    removalKeepsQuorum,
    replaceOnlyUnhealthy,
    zoneInRegion,
    cloneSourceAvailable,
    cloneSourceUsable,
  ],
  reset: [...REMEDY_COMMON, resetOnlyUnhealthy, resetKeepsQuorum],
  start: REMEDY_COMMON,
};

export function runPreflight(
  status: ClusterStatus,
  request: OpRequest,
  ctx: PreflightContext,
): CheckResult[] {
  return CHECKS[request.kind].map((check) => check(status, request, ctx));
}
