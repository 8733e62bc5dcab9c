// The preflight checks of `kube-ha defrag`. A member being defragmented
// answers nothing, so the cluster must not depend on it: every voter of a
// chosen cluster healthy now (one down elsewhere would leave the cluster
// without a spare while another is blocked), no learner (a membership change
// under way), a leader. And the operation lock lives in etcd main, which
// refuses every write in NOSPACE, lease grants included: then the lock is
// taken in etcd events, which must accept writes. Pure.
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { Advisory } from './advisories.js';
import type { Plan } from './plan.js';
import { defragClusters, defragOrder, hasNoSpace } from './plan-defrag.js';
import type { Check, CheckResult } from './preflight.js';
import { isVoter } from './resolve.js';

const pass = (name: string, reason: string): CheckResult => ({ name, ok: true, reason });
const fail = (name: string, reason: string): CheckResult => ({ name, ok: false, reason });

function chosen(status: ClusterStatus, request: Parameters<Check>[1]): EtcdClusterName[] {
  return request.kind === 'defrag' ? defragClusters(status, request) : [];
}

/** Quorum and a leader in each chosen cluster, and in main (the snapshot and the lock). */
export const defragQuorum: Check = (status, request) => {
  const name = 'cluster-healthy';
  const clusters = [...new Set<EtcdClusterName>(['main', ...chosen(status, request)])];
  for (const c of clusters) {
    const h = status.etcd[c];
    if (h.votingMembers === 0) return fail(name, `etcd ${c} has no voting members`);
    if (h.healthyVoters < h.quorum)
      return fail(
        name,
        `etcd ${c} has lost quorum (${h.healthyVoters} of ${h.votingMembers} voters healthy, ${h.quorum} needed): a defragmentation cannot help; bring its members back first`,
      );
    if (!h.leaderId) return fail(name, `etcd ${c} has no leader`);
  }
  return pass(name, clusters.map((c) => `etcd ${c} has quorum and a leader`).join('; '));
};

/**
 * Every member of each chosen cluster healthy, none a learner: while one is
 * defragmented, the others carry the cluster, so all of them must be there.
 */
export const everyMemberHealthy: Check = (status, request) => {
  const name = 'every-member-healthy';
  const parts: string[] = [];
  for (const c of chosen(status, request)) {
    const bad: string[] = [];
    for (const r of status.replicas) {
      const m = r.etcd[c];
      if (!m) continue;
      if (m.learner) bad.push(`${r.name} is a learner (an add is under way: finish or roll it back first)`);
      else if (!m.healthy) bad.push(`${r.name} is unhealthy (${m.error ?? m.state})`);
    }
    if (bad.length) {
      const voters = status.replicas.filter((r) => isVoter(r.etcd[c])).length;
      return fail(
        name,
        `etcd ${c}: ${bad.join('; ')}: with a member blocked by its defragmentation, ${voters} voters would be down to fewer than they are now; repair it first (kube-ha reset | start | replace)`,
      );
    }
    parts.push(`etcd ${c}: ${defragOrder(status, c).length} voters, all healthy`);
  }
  return pass(name, parts.join('; '));
};

/**
 * The lock is a lease and a key in etcd main; in NOSPACE etcd refuses both.
 * Then it is taken in etcd events (no other operation can take main's while
 * the alarm stands); with both in NOSPACE there is nowhere to take it.
 */
export const lockWritable: Check = (status) => {
  const name = 'lock-writable';
  const main = hasNoSpace(status, 'main');
  const events = hasNoSpace(status, 'events');
  if (main && events)
    return fail(
      name,
      'etcd main and events both refuse writes (NOSPACE): the operation lock cannot be taken in either; restore events by hand first (etcdctl --endpoints http://<each member>:4002 compaction <revision>, defrag each member, alarm disarm), then kube-ha defrag --cluster main',
    );
  if (main)
    return pass(
      name,
      'etcd main refuses writes (NOSPACE): the operation lock is taken in etcd events instead (no other operation can take it in main while the alarm stands)',
    );
  return pass(name, 'the operation lock is taken in etcd main');
};

export const DEFRAG_CHECKS: readonly Check[] = [defragQuorum, everyMemberHealthy, lockWritable];

/** What the operator should know before confirming a defrag. */
export function defragAdvisories(status: ClusterStatus, plan: Plan): Advisory[] {
  const out: Advisory[] = [];
  const clusters = ETCD_CLUSTERS.filter((c) => plan.steps.some((s) => s.id === `defrag.compact.${c}`));
  for (const c of clusters) {
    const voters = defragOrder(status, c).length;
    if (voters <= 2)
      out.push({
        code: 'DEFRAG_BLOCKS',
        message: `etcd ${c} has ${voters} voter${voters === 1 ? '' : 's'}: while a member is defragmented the cluster has no quorum of others, and its reads and writes wait until it is done`,
      });
  }
  out.push({
    code: 'DEFRAG_BLOCKS',
    message: `compaction drops every old revision: a watcher behind it (a kube-apiserver informer) relists; kube-apiserver compacts every 5 minutes itself, so this is what it would do anyway`,
  });
  return out;
}
