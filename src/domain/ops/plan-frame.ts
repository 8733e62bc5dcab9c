// What every plan builder starts and ends with: where the cluster is (no plan
// without it), the operation's ID, and for the operations that change no
// membership (reset, start, defrag) the plan document around their steps.
import type { ClusterStatus } from '../types.js';
import { type Gcloud, gcloudFor } from './manual.js';
import type { Plan, PlanContext } from './plan.js';
import type { PlanStep } from './step.js';

/** Where a plan's Compute steps act, with the gcloud words for its project. */
export interface PlanTarget {
  project: string;
  region: string;
  master: string;
  g: Gcloud;
}

export const NO_TARGET = 'the Compute API target (project, region, master name) is not known';

/** null when the status does not say where the cluster is: no plan can be described (NO_TARGET). */
export function planTarget(status: ClusterStatus): PlanTarget | null {
  const { project, region, masterName: master } = status;
  if (!project || !region || !master) return null;
  return { project, region, master, g: gcloudFor(project) };
}

/** The operation's ID: given (tests, a resume), else from the clock. */
export function planId(given: string | undefined, now: Date): string {
  return given ?? `op-${now.getTime().toString(36)}`;
}

/** The plan of an operation that keeps every replica: no add, no remove, the load balancer kept. */
export function inPlacePlan(
  status: ClusterStatus,
  t: PlanTarget,
  ctx: PlanContext,
  now: Date,
  p: Pick<Plan, 'kind' | 'request' | 'summary'> & { steps: PlanStep[] },
): Plan {
  const names = status.replicas.map((r) => r.name);
  return {
    operationId: planId(ctx.operationId, now),
    kind: p.kind,
    request: p.request,
    summary: p.summary,
    project: t.project,
    region: t.region,
    masterName: t.master,
    add: null,
    remove: null,
    replicasBefore: names,
    replicasAfter: names,
    loadBalancer: status.loadBalancer ? 'keep' : 'none',
    steps: p.steps,
    createdAt: now.toISOString(),
  };
}
