// The plan of an operation: ordered steps, each saying what it changes, how it
// is undone, and how a person would do either by hand. Pure: the same plan is
// shown by the console and the CLI before anything changes, then executed by
// src/ops and recorded step by step in the journal.
import { newReplicaName } from '../names.js';
import type { ClusterStatus, ReplicaView } from '../types.js';
import { buildDefragPlan } from './plan-defrag.js';
import { NO_TARGET, planId, planTarget } from './plan-frame.js';
import { lbCreateSteps, lbTeardownSteps } from './plan-lb.js';
import { addSteps, oldDiskSteps, removeSteps } from './plan-member-steps.js';
import { diskNameOf, type PeerStyle, peerStyleOf } from './plan-names.js';
import { buildRemedyPlan, type RemedyPlan } from './plan-remedy.js';
import type { OpKind, OpRequest } from './request.js';
import { describeRequest, isRemedy } from './request.js';
import { replicaHealthy, resolveReplica } from './resolve.js';
import { type Located, markCheckpoint, type PlanStep, snapshotStep, verifyStep } from './step.js';

export { diskNameOf, internalAddressName, type PeerStyle, peerStyleOf, peerURL } from './plan-names.js';
export type { Located, PlanStep, StepKind } from './step.js';

export interface PlanAdd extends Located {
  source: Located;
  peerStyle: PeerStyle;
  /** INITIAL_ETCD_CLUSTER of the new replica: the replicas that remain, then the new one. */
  initialCluster: string[];
}

export interface Plan {
  operationId: string;
  kind: OpKind;
  request: OpRequest;
  summary: string;
  project: string;
  region: string;
  masterName: string;
  add: PlanAdd | null;
  remove: { name: string; zone: string | null } | null;
  replicasBefore: string[];
  replicasAfter: string[];
  loadBalancer: 'create' | 'teardown' | 'keep' | 'none';
  steps: PlanStep[];
  createdAt: string;
  /** reset / start only: the replica, where the lock is held, and what the plan leaves out. */
  remedy?: RemedyPlan;
}

export interface PlanContext {
  operationId?: string;
  now?: Date;
  random?: () => number;
}

export type PlanBuild = { ok: true; plan: Plan } | { ok: false; reason: string };

/** The replica whose configuration a new one copies: healthy, running, preferably not the one leaving. */
export function cloneSource(status: ClusterStatus, exclude: string | null): ReplicaView | null {
  const candidates = status.replicas.filter((r) => r.name !== exclude && r.zone && r.vm.status === 'RUNNING');
  return candidates.find(replicaHealthy) ?? null;
}

/**
 * Builds the plan for a request against an observed status. It fails only
 * when no plan can be described at all (unknown replica, no region); whether
 * the plan may run is the preflight checks' decision.
 */
export function buildPlan(status: ClusterStatus, request: OpRequest, ctx: PlanContext = {}): PlanBuild {
  if (isRemedy(request)) return buildRemedyPlan(status, request, ctx);
  if (request.kind === 'defrag') return buildDefragPlan(status, request, ctx);
  const now = ctx.now ?? new Date();
  const t = planTarget(status);
  if (!t) return { ok: false, reason: NO_TARGET };
  const { project, region, master } = t;
  const steps: PlanStep[] = [];
  const before = status.replicas.map((r) => r.name);
  const lbExists = status.loadBalancer !== null;
  const poolName = status.loadBalancer?.targetPool ?? null;
  const ipStyle = peerStyleOf(status) === 'ip';

  let removed: ReplicaView | null = null;
  if (request.kind !== 'add') {
    const res = resolveReplica(status, request);
    if (!res.ok) return { ok: false, reason: res.reason };
    removed = res.replica;
  }
  const remaining = status.replicas.filter((r) => r !== removed);

  let add: PlanAdd | null = null;
  if (request.kind !== 'remove') {
    const zone = request.kind === 'add' ? request.zone : (request.zone ?? removed?.zone ?? null);
    if (!zone)
      return {
        ok: false,
        reason: `the zone of ${removed?.name} is not known (its VM is missing): pass --zone`,
      };
    const src = cloneSource(status, removed?.name ?? null);
    if (!src?.zone) return { ok: false, reason: 'no healthy running replica to copy the configuration from' };
    const explicit = request.kind === 'add' ? request.name : null;
    // Names of the removed replica stay taken: reusing one confuses journals, logs and etcd's history.
    const name = explicit ?? newReplicaName(master, before, ctx.random);
    const members = remaining.filter((r) => r.etcd.main && !r.etcd.main.learner).map((r) => r.name);
    add = {
      name,
      zone,
      source: { name: src.name, zone: src.zone },
      peerStyle: ipStyle ? 'ip' : 'hostname',
      initialCluster: [...members, name],
    };
  }

  const after = [...remaining.map((r) => r.name), ...(add ? [add.name] : [])];
  let loadBalancer: Plan['loadBalancer'] = lbExists ? 'keep' : 'none';

  steps.push(snapshotStep(master));
  if (removed) {
    steps.push(...removeSteps(t, removed, poolName, ipStyle));
    const survivor = remaining[0];
    if (request.kind === 'remove' && lbExists && remaining.length === 1 && survivor?.zone) {
      steps.push(...lbTeardownSteps(t, { name: survivor.name, zone: survivor.zone }));
      loadBalancer = 'teardown';
    }
    markCheckpoint(steps);
  }
  if (add) {
    let pool = poolName;
    if (!lbExists && after.length >= 2) {
      const first = remaining.find((r) => r.zone && r.vm.status !== 'MISSING');
      if (!first?.zone) return { ok: false, reason: 'no replica VM to put behind the new load balancer' };
      steps.push(...lbCreateSteps(t, { name: first.name, zone: first.zone }));
      pool = master;
      loadBalancer = 'create';
    }
    steps.push(...addSteps(t, status, add, pool));
  }
  steps.push(verifyStep(after, loadBalancer === 'create' || loadBalancer === 'keep' ? master : null));
  markCheckpoint(steps);
  const keepDisk = request.kind !== 'add' && request.keepDisk === true;
  if (removed && !keepDisk) steps.push(...oldDiskSteps(t, removed));

  const counts = `${before.length} → ${after.length} replicas`;
  const summary =
    request.kind === 'add'
      ? `add ${add?.name} in ${add?.zone} (${counts})`
      : request.kind === 'remove'
        ? `remove ${removed?.name} (${counts})`
        : `replace ${removed?.name} with ${add?.name} in ${add?.zone}`;
  const kept =
    keepDisk && removed?.zone ? `; disk ${diskNameOf(removed.name)} kept (kube-ha cleanup deletes it)` : '';
  return {
    ok: true,
    plan: {
      operationId: planId(ctx.operationId, now),
      kind: request.kind,
      request,
      summary: (summary || describeRequest(request)) + kept,
      project,
      region,
      masterName: master,
      add,
      remove: removed ? { name: removed.name, zone: removed.zone } : null,
      replicasBefore: before,
      replicasAfter: after,
      loadBalancer,
      steps,
      createdAt: now.toISOString(),
    },
  };
}
