// The plan of `kube-ha defrag`: etcd's own remedy for NOSPACE as one
// journalled flow. For each chosen cluster: compact to the current revision,
// defragment one member at a time (followers first; leadership moved off the
// leader before its turn, to a voter already defragmented), then disarm the
// alarms and verify. A member being defragmented blocks its reads and writes,
// so there is never more than one, and its runner refuses to start while the
// others could not hold a quorum. Nothing here can be undone, nor needs to be:
// a failure stops the operation and leaves the rest for a resume. Pure.
import { formatBytes } from '../format.js';
import type { ClusterStatus, EtcdClusterName, ReplicaView } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { Plan, PlanBuild, PlanContext } from './plan.js';
import { inPlacePlan, NO_TARGET, planTarget } from './plan-frame.js';
import type { DefragRequest } from './request.js';
import { isVoter } from './resolve.js';
import { markCheckpoint, type PlanStep, snapshotStep, step } from './step.js';

/** A defragment rewrites the whole database file: minutes on a multi-GB one. */
export const DEFRAG_DEADLINE_MS = 10 * 60_000;
/** A physical compaction waits until the compacted revisions are gone from the backend. */
export const COMPACT_DEADLINE_MS = 5 * 60_000;

const ENDPOINT_HINT: Record<EtcdClusterName, (host: string) => string> = {
  main: (host) => `etcdctl --endpoints https://${host}:2379`,
  events: (host) => `etcdctl --endpoints http://${host}:4002`,
};

/** The clusters a defrag is for: the one asked, else every cluster in NOSPACE, else main. */
export function defragClusters(status: ClusterStatus, request: DefragRequest): EtcdClusterName[] {
  if (request.cluster) return [request.cluster];
  const alarmed = ETCD_CLUSTERS.filter((c) => hasNoSpace(status, c));
  return alarmed.length ? alarmed : ['main'];
}

/** Any member of the cluster reports NOSPACE (the alarm is cluster-wide). */
export function hasNoSpace(status: ClusterStatus, cluster: EtcdClusterName): boolean {
  return (
    (status.etcd[cluster].alarms ?? []).some((a) => a.alarm === 'NOSPACE') ||
    status.replicas.some((r) => r.etcd[cluster]?.alarms.includes('NOSPACE'))
  );
}

/** Voters in the order they are defragmented: followers by name, the leader last. */
export function defragOrder(status: ClusterStatus, cluster: EtcdClusterName): ReplicaView[] {
  const voters = status.replicas.filter((r) => isVoter(r.etcd[cluster]));
  const followers = voters
    .filter((r) => !r.etcd[cluster]!.leader)
    .sort((a, b) => a.name.localeCompare(b.name));
  const leader = voters.filter((r) => r.etcd[cluster]!.leader);
  return [...followers, ...leader];
}

const size = (b: number | null | undefined) =>
  b === null || b === undefined ? 'size unknown' : formatBytes(b);

function hostOf(r: ReplicaView): string {
  return r.vm.internalIP ?? r.name;
}

// Every step has step()'s defaults: nothing to undo (compaction and
// defragmentation change no data); reversible: a failure stops, nothing is "finished forward".
function clusterSteps(status: ClusterStatus, cluster: EtcdClusterName, out: PlanStep[]): void {
  const order = defragOrder(status, cluster);
  const any = order[0];
  const via = ENDPOINT_HINT[cluster](any ? hostOf(any) : '<member>');
  const all = ENDPOINT_HINT[cluster](order.map(hostOf).join(','));
  out.push(
    step(
      `defrag.compact.${cluster}`,
      'etcd.compact',
      { cluster },
      {
        title: `Compact etcd ${cluster} to its current revision`,
        changes: `etcd ${cluster} forgets every older revision of every key (history only: the current values stay; watchers behind it must relist); physical, so the space is free before the defragmentation (deadline ${COMPACT_DEADLINE_MS / 60_000} min)`,
        manual: `${via} compaction --physical $(${via} endpoint status -w json | jq '.[0].Status.header.revision')`,
      },
    ),
  );
  const voters = order.length;
  for (const r of order) {
    const m = r.etcd[cluster]!;
    if (m.leader && voters > 1) {
      out.push(
        step(
          `defrag.move-leader.${cluster}`,
          'etcd.move-leader',
          { cluster, replica: r.name, memberId: m.memberId },
          {
            title: `Move etcd ${cluster} leadership off ${r.name} before its defragmentation`,
            changes: `if ${r.name} still leads etcd ${cluster}, leadership goes to a healthy voter already defragmented (a short election, no data change)`,
            manual: `${ENDPOINT_HINT[cluster](hostOf(r))} move-leader <ID of a defragmented voter>`,
          },
        ),
      );
    }
    const others = voters - 1;
    out.push(
      step(
        `defrag.member.${cluster}.${r.name}`,
        'etcd.defrag',
        { cluster, replica: r.name, memberId: m.memberId },
        {
          title: `Defragment ${r.name}'s etcd ${cluster} member (${size(m.dbSizeBytes)})`,
          changes:
            `member ${m.memberId} rewrites its database without the free pages, and answers no read or write meanwhile (deadline ${DEFRAG_DEADLINE_MS / 60_000} min); ` +
            (others >= 2
              ? `first checked: the ${others} other voters are healthy and hold a quorum without it; then: it is healthy again, a write commits through it, the leader leases still renew`
              : `etcd ${cluster} has ${voters} voter${voters === 1 ? '' : 's'}: its reads and writes wait until this member is done; then: it is healthy again and a write commits`),
          manual: `${ENDPOINT_HINT[cluster](hostOf(r))} defrag --command-timeout=${DEFRAG_DEADLINE_MS / 1000}s`,
        },
      ),
    );
  }
  out.push(
    step(
      `defrag.disarm.${cluster}`,
      'etcd.disarm',
      { cluster },
      {
        title: `Disarm etcd ${cluster}'s NOSPACE alarms`,
        changes: `every NOSPACE alarm of etcd ${cluster} is cleared (writes are accepted again; a member still over its quota raises it again, and the step fails)`,
        manual: `${via} alarm disarm && ${via} alarm list`,
      },
    ),
  );
  out.push(
    step(
      `defrag.verify.${cluster}`,
      'etcd.verify-space',
      { cluster, replicas: order.map((r) => r.name) },
      {
        title: `Verify etcd ${cluster}: no alarm, every member healthy`,
        changes: `nothing (checks: the alarm list is empty, ${voters} healthy voter${voters === 1 ? '' : 's'} with a leader; reports each member's database size before and after)`,
        manual: `${all} endpoint status -w table && ${via} alarm list`,
      },
    ),
  );
}

/**
 * The plan for a defrag request against an observed status. Fails only when
 * no plan can be described (no Compute target, a cluster with no voter);
 * whether it may run is for the preflight checks (preflight-defrag.ts).
 */
export function buildDefragPlan(
  status: ClusterStatus,
  request: DefragRequest,
  ctx: PlanContext = {},
): PlanBuild {
  const now = ctx.now ?? new Date();
  const t = planTarget(status);
  if (!t) return { ok: false, reason: NO_TARGET };
  const { master } = t;
  const clusters = defragClusters(status, request);
  const steps: PlanStep[] = [];
  // The snapshot needs a quorum in main; without one the lock cannot be taken either (preflight says so).
  steps.push(snapshotStep(master, ' (a read: etcd serves it in NOSPACE too)'));
  for (const c of clusters) {
    if (defragOrder(status, c).length === 0)
      return { ok: false, reason: `etcd ${c} has no voting member to defragment` };
    clusterSteps(status, c, steps);
  }
  markCheckpoint(steps);
  const why = clusters.filter((c) => hasNoSpace(status, c));
  const plan = inPlacePlan(status, t, ctx, now, {
    kind: 'defrag',
    request,
    summary: `defrag etcd ${clusters.join(' and ')} (${clusters.map((c) => `${defragOrder(status, c).length} members`).join(', ')}${why.length ? `; NOSPACE in ${why.join(' and ')}` : ''})`,
    steps,
  });
  return { ok: true, plan };
}

/**
 * A defrag has nothing to roll back: a failed step (a member that did not
 * come back, leases gone stale, the lock lost) stops it, and the steps left
 * wait for `kube-ha operation resume`.
 */
export function stopsOnFailure(plan: Pick<Plan, 'kind'>): boolean {
  return plan.kind === 'defrag';
}

/** Per member, its database size before and after, from the journal's facts (`defrag.size.<cluster>.<replica>`). */
export function defragSizes(
  facts: Record<string, string>,
): { cluster: string; replica: string; before: number; after: number }[] {
  const out: { cluster: string; replica: string; before: number; after: number }[] = [];
  for (const [k, v] of Object.entries(facts)) {
    const m = /^defrag\.size\.(main|events)\.(.+)$/.exec(k);
    const n = /^(\d+)->(\d+)$/.exec(v);
    if (m && n) out.push({ cluster: m[1]!, replica: m[2]!, before: Number(n[1]), after: Number(n[2]) });
  }
  return out;
}

export const sizeFact = (cluster: EtcdClusterName, replica: string) => `defrag.size.${cluster}.${replica}`;
