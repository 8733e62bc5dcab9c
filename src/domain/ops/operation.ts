// One call for the console and the CLI: the plan, the checks, the warnings and
// the quorum preview for a request, all from one observed status. Pure.
import type { ClusterStatus } from '../types.js';
import type { Advisory } from './advisories.js';
import { advisoriesFor } from './advisories.js';
import type { Plan, PlanContext } from './plan.js';
import { buildPlan } from './plan.js';
import { lockPlaceFor } from './plan-remedy.js';
import type { CheckResult, PreflightContext } from './preflight.js';
import { runPreflight } from './preflight.js';
import type { QuorumPreview } from './quorum-preview.js';
import { quorumPreview } from './quorum-preview.js';
import type { OpRequest } from './request.js';
import { resolveReplica } from './resolve.js';

export interface PlannedOperation {
  request: OpRequest;
  /** null when no plan can be described (the checks say why). */
  plan: Plan | null;
  checks: CheckResult[];
  advisories: Advisory[];
  preview: QuorumPreview | null;
  /** Every check passed and a plan exists. */
  ok: boolean;
  /** Failed checks' reasons, plus why no plan could be built. */
  refusals: string[];
  /** What must be typed to confirm (the replica's name), or null when y/n will do. */
  confirmToken: string | null;
  /**
   * A replace or reset refused for no other reason than its replica being healthy: the
   * same request with force (the CLI's --force, the console's F) passes every check.
   */
  forceable: boolean;
}

export type OperationContext = PreflightContext & PlanContext;

const NO_CONTEXT: OperationContext = { zonesInRegion: null, lock: null, unfinished: null };

export function planOperation(
  status: ClusterStatus,
  request: OpRequest,
  ctx: OperationContext = NO_CONTEXT,
): PlannedOperation {
  const checks = runPreflight(status, request, ctx);
  const built = buildPlan(status, request, ctx);
  const plan = built.ok ? built.plan : null;
  const preview = plan ? quorumPreview(status, plan) : null;
  const advisories = plan && preview ? advisoriesFor(status, request, plan, preview) : [];
  const refusals = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.reason}`);
  if (!built.ok && !refusals.some((r) => r.includes(built.reason))) refusals.push(`plan: ${built.reason}`);
  const forceable =
    (request.kind === 'replace' || request.kind === 'reset') &&
    !request.force &&
    refusals.length > 0 &&
    built.ok &&
    runPreflight(status, { ...request, force: true }, ctx).every((c) => c.ok);
  return {
    request,
    plan,
    checks,
    advisories,
    preview,
    ok: refusals.length === 0,
    refusals,
    confirmToken: confirmTokenFor(status, request),
    forceable,
  };
}

/** Removing or replacing destroys a replica: the operator types its name (scripts: --confirm NAME). */
export function confirmTokenFor(status: ClusterStatus, request: OpRequest): string | null {
  if (request.kind === 'add') return null;
  // A defrag removes nothing (history only): y will do.
  if (request.kind === 'defrag') return null;
  // Starting a stopped VM destroys nothing: y will do, unless the lock is only a local file.
  if (request.kind === 'start' && lockPlaceFor(status, request.kind) !== 'local') return null;
  const r = resolveReplica(status, request);
  return r.ok ? r.replica.name : request.kind === 'replace' ? request.replica : request.replica;
}

export type Confirmation = { ok: true } | { ok: false; reason: string };

/** Scripts: `--yes` confirms anything, `--confirm NAME` must name the replica. */
export function checkConfirmation(
  planned: PlannedOperation,
  given: { yes: boolean; confirm: string | null; interactiveAnswer?: string | null },
): Confirmation {
  const token = planned.confirmToken;
  // Without quorum anywhere nothing keeps another machine out: the operator names the replica.
  if (given.yes && planned.plan?.remedy?.lockPlace === 'local' && given.confirm !== token)
    return {
      ok: false,
      reason: `neither etcd cluster has quorum and only a local lock is held: --yes is not enough, confirm with --confirm ${token}`,
    };
  if (given.yes) return { ok: true };
  const answer = given.confirm ?? given.interactiveAnswer ?? null;
  if (token === null) {
    // Adding destroys nothing: a yes will do, or the new replica's name.
    const name = planned.plan?.add?.name;
    if (answer !== null && (/^(y|yes)$/i.test(answer.trim()) || answer.trim() === name)) return { ok: true };
    return {
      ok: false,
      reason: answer === null ? 'not confirmed (pass --yes)' : `'${answer.trim()}': not confirmed`,
    };
  }
  if (answer === null)
    return { ok: false, reason: `type ${token} to confirm (scripts: --confirm ${token} or --yes)` };
  if (answer.trim() !== token)
    return { ok: false, reason: `'${answer.trim()}' is not ${token}: not confirmed` };
  return { ok: true };
}
