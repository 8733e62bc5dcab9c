// The plans of the lighter remedies for a sick replica (issue 16 item 1):
// reset its VM (instances.reset, for a hung VM) or start it (instances.start,
// for a TERMINATED or STOPPED one), then wait for the same etcd members to
// answer again. No membership changes, so nothing to undo: a reset cannot be
// undone, and need not be. Pure.
//
// They are also the remedy for transient quorum loss, where the operation
// lock in etcd main cannot be taken: see lockPlaceFor.
import { quorumOf } from '../quorum.js';
import type { ClusterStatus, EtcdClusterName, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { Plan, PlanBuild, PlanContext } from './plan.js';
import { inPlacePlan, NO_TARGET, type PlanTarget, planTarget } from './plan-frame.js';
import type { RemedyKind, RemedyRequest } from './request.js';
import { apiserverStep, markCheckpoint, type PlanStep, snapshotStep, step, verifyStep } from './step.js';

/**
 * Where the operation lock of a remedy is held. `main`: the usual lock in etcd
 * main. `events`: main has lost quorum, events has not; a reset can still cost
 * events its quorum, so the lock (same key, same lease) is held there, where
 * any other kube-ha that falls back alike meets it. `local`: neither cluster
 * has quorum, so no reset can cost one any more; a lock file in the state dir
 * keeps two processes on this machine apart, and nothing keeps another
 * machine out: said in the plan and the result, and confirmed by the typed name.
 */
export type LockPlace = 'main' | 'events' | 'local';

export interface RemedyPlan {
  replica: string;
  zone: string;
  /** The VM's status when planned. */
  vmStatus: string;
  lockPlace: LockPlace;
  /** Said loudly before confirming and in the result: what is left out and why. */
  notes: string[];
}

/** A cluster commits writes: a healthy majority of its voters and a leader. */
export function quorumHeld(status: ClusterStatus, cluster: EtcdClusterName): boolean {
  const h = status.etcd[cluster];
  return h.votingMembers > 0 && h.healthyVoters >= h.quorum && Boolean(h.leaderId);
}

/** Where a request's lock is held: remedies fall back when etcd main cannot hold it. */
export function lockPlaceFor(status: ClusterStatus, kind: string): LockPlace {
  if ((kind !== 'reset' && kind !== 'start') || quorumHeld(status, 'main')) return 'main';
  return quorumHeld(status, 'events') ? 'events' : 'local';
}

export function describeLockPlace(place: LockPlace): string {
  if (place === 'main') return 'the operation lock in etcd main';
  if (place === 'events')
    return 'etcd main has no quorum: the operation lock is held in etcd events instead (the cluster a reset could still cost its quorum)';
  return 'neither etcd cluster has quorum: the operation lock cannot be held in etcd; a lock file in the state dir keeps other kube-ha processes on this machine out, NOT those on other machines';
}

/**
 * Whether the cluster commits once this replica's member is back: counted
 * with the members that answer now, a leader or not (without quorum none has
 * one, and each is healthy again once there is one).
 */
function quorumWithReplicaBack(status: ClusterStatus, cluster: EtcdClusterName, r: ReplicaView): boolean {
  const voters = status.replicas.filter((x) => x.etcd[cluster] && !x.etcd[cluster]!.learner);
  const answering = (x: ReplicaView) => x.etcd[cluster]!.healthy || x.etcd[cluster]!.state === 'unhealthy';
  const healthy = voters.filter((x) => x === r || answering(x)).length;
  return voters.length > 0 && healthy >= quorumOf(voters.length);
}

const VERB: Record<RemedyKind, { title: string; api: string }> = {
  reset: { title: 'Reset', api: 'instances.reset' },
  start: { title: 'Start', api: 'instances.start' },
};

function instanceStep(
  kind: RemedyKind,
  r: ReplicaView,
  zone: string,
  t: PlanTarget,
  force: boolean,
): PlanStep {
  const what =
    kind === 'reset'
      ? `VM ${r.name} in ${zone} is reset (${VERB.reset.api}: a hard reboot, as the reset button: memory is lost; disks, IPs and etcd members stay)`
      : `VM ${r.name} in ${zone} is started (${VERB.start.api}: it boots from its disks, which it kept while stopped; an ephemeral external IP may change)`;
  // Nothing to undo and nothing left half-done (reversible): a rollback has nothing to return to.
  const words = {
    title: `${VERB[kind].title} VM ${r.name}`,
    changes: `${what}; waits until RUNNING`,
    manual: t.g.instance(kind, { name: r.name, zone }),
  };
  const id = `${kind}.instance`;
  return kind === 'reset'
    ? step(id, 'instance.reset', { name: r.name, zone, force }, words)
    : step(id, 'instance.start', { name: r.name, zone }, words);
}

/**
 * The plan of a reset or start. Fails only when no plan can be described
 * (unknown replica, zone or target); whether it may run is the checks' call.
 */
export function buildRemedyPlan(
  status: ClusterStatus,
  request: RemedyRequest,
  ctx: PlanContext = {},
): PlanBuild {
  const now = ctx.now ?? new Date();
  const t = planTarget(status);
  if (!t) return { ok: false, reason: NO_TARGET };
  const { master } = t;
  const r = status.replicas.find((x) => x.name === request.replica);
  if (!r) {
    const known = status.replicas.map((x) => x.name).join(', ') || 'none';
    return { ok: false, reason: `no replica named ${request.replica} (replicas: ${known})` };
  }
  if (!r.zone || r.vm.status === 'MISSING')
    return {
      ok: false,
      reason: `${r.name} has no VM to ${request.kind} (kube-ha replace --replica ${r.name})`,
    };
  const kind = request.kind;
  const zone = r.zone;
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  const lockPlace = lockPlaceFor(status, kind);
  if (lockPlace !== 'main') notes.push(describeLockPlace(lockPlace));

  if (quorumHeld(status, 'main')) {
    steps.push(snapshotStep(master));
  } else {
    notes.push(
      'no snapshot of etcd main first: a snapshot needs its quorum (and nothing in etcd changes: no member is added or removed)',
    );
  }

  steps.push(instanceStep(kind, r, zone, t, request.force));

  for (const cluster of ETCD_CLUSTERS) {
    const m = r.etcd[cluster];
    if (!m) {
      notes.push(`${r.name} has no etcd ${cluster} member: nothing to wait for there`);
      continue;
    }
    const healthy = quorumWithReplicaBack(status, cluster, r);
    if (!healthy)
      notes.push(
        `etcd ${cluster} still lacks quorum with ${r.name} back: its member is waited for until it answers, not until it is healthy (that needs another replica back: kube-ha reset|start it next)`,
      );
    steps.push(
      step(
        `${kind}.member.${cluster}`,
        'etcd.wait-member-healthy',
        { cluster, replica: r.name, memberId: m.memberId, until: healthy ? 'healthy' : 'answers' },
        {
          title: `Wait for ${r.name}'s etcd ${cluster} member to ${healthy ? 'be healthy' : 'answer'}`,
          changes: `nothing (waits until member ${m.memberId} answers${healthy ? ' with a leader' : ''}: the same ID, so the member and its data were kept)`,
          manual: `etcdctl --endpoints <${r.name}:${cluster === 'main' ? 2379 : 4002}> endpoint status -w table`,
        },
      ),
    );
  }

  // kube-apiserver's /healthz needs etcd main's quorum.
  if (r.etcd.main && quorumWithReplicaBack(status, 'main', r)) {
    steps.push(apiserverStep(`${kind}.apiserver`, r.name));
  }

  const names = status.replicas.map((x) => x.name);
  const others = status.replicas.filter(
    (x) =>
      x !== r &&
      !(x.vm.status === 'RUNNING' && ETCD_CLUSTERS.every((c) => x.etcd[c]?.healthy && !x.etcd[c]?.learner)),
  );
  const lb = status.loadBalancer !== null;
  if (others.length === 0) {
    steps.push(verifyStep(names, lb ? (status.loadBalancer?.targetPool ?? master) : null));
  } else {
    notes.push(
      `also unhealthy: ${others.map((x) => x.name).join(', ')}: the whole-cluster check is left out (it would fail on them); the waits above verify ${r.name}`,
    );
  }
  markCheckpoint(steps);

  const plan: Plan = {
    ...inPlacePlan(status, t, ctx, now, {
      kind,
      request,
      summary: `${kind} ${r.name} in ${zone}${request.force ? ' (forced)' : ''}`,
      steps,
    }),
    remedy: { replica: r.name, zone, vmStatus: r.vm.status, lockPlace, notes },
  };
  return { ok: true, plan };
}
