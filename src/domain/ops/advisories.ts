// Warnings that do not refuse: the operator sees them highlighted before
// confirming. They describe the result, not the cluster as it is now.
import type { ClusterStatus } from '../types.js';
import type { Plan } from './plan.js';
import { defragAdvisories } from './preflight-defrag.js';
import type { QuorumPreview } from './quorum-preview.js';
import type { OpRequest } from './request.js';
import { replicaHealthy, resolveReplica } from './resolve.js';

export type AdvisoryCode =
  | 'EVEN_RESULT'
  | 'TWO_REPLICAS'
  | 'ZONE_OCCUPIED'
  | 'ZONE_CONCENTRATION'
  | 'LOAD_BALANCER_CREATED'
  | 'LOAD_BALANCER_REMOVED'
  | 'REPLACING_HEALTHY'
  | 'OTHER_UNHEALTHY'
  /** defrag: reads and writes that wait, watchers that relist. */
  | 'DEFRAG_BLOCKS'
  /** reset / start: what the plan leaves out and why (the lock's fallback, no snapshot, no whole-cluster check). */
  | 'REMEDY_NOTE';

export interface Advisory {
  code: AdvisoryCode;
  message: string;
}

export function evenResult(_s: ClusterStatus, _r: OpRequest, _plan: Plan, p: QuorumPreview): Advisory | null {
  const { after } = p.main;
  if (after.voters <= 2 || after.voters % 2 !== 0) return null;
  return {
    code: 'EVEN_RESULT',
    message: `the result has ${after.voters} voters: an even count tolerates no more failures than ${after.voters - 1} (quorum ${after.quorum})`,
  };
}

export function twoReplicas(
  _s: ClusterStatus,
  _r: OpRequest,
  _plan: Plan,
  p: QuorumPreview,
): Advisory | null {
  if (p.main.after.voters !== 2) return null;
  return {
    code: 'TWO_REPLICAS',
    message:
      'the result has 2 replicas, worse than one: it tolerates no failure and either failing stops etcd',
  };
}

export function zoneOccupied(s: ClusterStatus, _r: OpRequest, plan: Plan): Advisory | null {
  if (!plan.add) return null;
  const there = s.replicas.filter((r) => r.zone === plan.add?.zone && r.name !== plan.remove?.name);
  if (there.length === 0) return null;
  return {
    code: 'ZONE_OCCUPIED',
    message: `zone ${plan.add.zone} already holds ${there.map((r) => r.name).join(', ')}: one zone outage takes both`,
  };
}

export function zoneConcentration(
  _s: ClusterStatus,
  _r: OpRequest,
  _plan: Plan,
  p: QuorumPreview,
): Advisory | null {
  const { after } = p.main;
  // With 1 or 2 voters no zone layout survives a zone loss; TWO_REPLICAS says so already.
  if (after.voters < 3 || after.survivesZoneLoss) return null;
  const [zone, n] = Object.entries(after.zones).sort((a, b) => b[1] - a[1])[0] ?? ['?', 0];
  return {
    code: 'ZONE_CONCENTRATION',
    message: `the result concentrates quorum in ${zone} (${n} of ${after.voters} voters): losing that zone loses etcd`,
  };
}

export function loadBalancerChange(s: ClusterStatus, _r: OpRequest, plan: Plan): Advisory | null {
  const ip = s.apiserverIP?.address ?? `${plan.masterName}-ip`;
  if (plan.loadBalancer === 'create') {
    return {
      code: 'LOAD_BALANCER_CREATED',
      message: `a load balancer is created and takes over the apiserver IP ${ip}: clients lose it until the forwarding rule answers`,
    };
  }
  if (plan.loadBalancer === 'teardown') {
    return {
      code: 'LOAD_BALANCER_REMOVED',
      message: `the load balancer is deleted and ${ip} moves to ${plan.replicasAfter[0]}: clients lose it for a moment`,
    };
  }
  return null;
}

export function replacingHealthy(s: ClusterStatus, r: OpRequest): Advisory | null {
  if (r.kind !== 'replace') return null;
  const res = resolveReplica(s, r);
  if (!res.ok || !replicaHealthy(res.replica)) return null;
  return {
    code: 'REPLACING_HEALTHY',
    message: `${res.replica.name} is healthy: fault tolerance drops while its replacement joins`,
  };
}

export function otherUnhealthy(s: ClusterStatus, r: OpRequest, plan: Plan): Advisory | null {
  if (r.kind === 'add') return null;
  const others = s.replicas.filter((x) => x.name !== plan.remove?.name && !replicaHealthy(x));
  if (others.length === 0) return null;
  return {
    code: 'OTHER_UNHEALTHY',
    message: `also unhealthy: ${others.map((x) => x.name).join(', ')} (counted as lost by the quorum rule)`,
  };
}

const ADVISORIES = [
  evenResult,
  twoReplicas,
  zoneOccupied,
  zoneConcentration,
  loadBalancerChange,
  replacingHealthy,
  otherUnhealthy,
];

export function advisoriesFor(
  status: ClusterStatus,
  request: OpRequest,
  plan: Plan,
  preview: QuorumPreview,
): Advisory[] {
  if (plan.kind === 'defrag') return defragAdvisories(status, plan);
  // A reset or start changes no membership: the counts above do not apply, its plan says what does.
  if (plan.remedy) return plan.remedy.notes.map((message) => ({ code: 'REMEDY_NOTE', message }));
  return ADVISORIES.map((a) => a(status, request, plan, preview)).filter((a): a is Advisory => a !== null);
}
