// What every runner is given (RunContext) and the helpers they share: the
// Compute view bound to the step's signal, the check before a change, and
// the polling loop every wait uses.

import type { Plan, PlanStep, StepKind } from '../../domain/ops/plan.js';
import type { ClusterStatus, EtcdClusterName } from '../../domain/types.js';
import { abortableSleep, CancelledError } from '../../gce/retry.js';
import type { MutationResult, RunnerCompute } from '../compute-ops.js';
import type { RunnerEtcd } from '../etcd-ops.js';

export interface Timing {
  /** How long a learner may take to catch up (and to become promotable). */
  catchUpTimeoutMs: number;
  /** How long a new VM may take to be RUNNING after its insert is DONE. */
  runningTimeoutMs: number;
  /** How long a new load balancer may take to report a healthy member. */
  lbReadyTimeoutMs: number;
  /** How long the final verification waits for the cluster to look right. */
  verifyTimeoutMs: number;
  pollMs: number;
}

export const DEFAULT_TIMING: Timing = {
  catchUpTimeoutMs: 300_000,
  runningTimeoutMs: 300_000,
  lbReadyTimeoutMs: 600_000,
  verifyTimeoutMs: 60_000,
  pollMs: 250,
};

export interface RunContext {
  plan: Plan;
  compute: RunnerCompute;
  etcd: Record<EtcdClusterName, RunnerEtcd>;
  facts: Record<string, string>;
  timing: Timing;
  signal?: AbortSignal | undefined;
  observe(): Promise<ClusterStatus>;
  /** kube-apiserver's /healthz on a host: healthy, or whether anything answered at all. */
  apiserverProbe:
    | ((host: string) => Promise<{ healthy: boolean; answered: boolean; error: string | null }>)
    | null;
  /** Where the snapshot before a change is saved (the state dir's snapshots/); null: none is taken. */
  snapshotDir: string | null;
  note(message: string): void;
  progress(current: number | null, target: number | null, message: string): void;
}

export interface RunOutcome {
  note?: string;
  skipped?: boolean;
}

export type StepOf<K extends StepKind> = Extract<PlanStep, { kind: K }>;

export interface Runner<K extends StepKind> {
  run(step: StepOf<K>, ctx: RunContext): Promise<RunOutcome>;
  undo?(step: StepOf<K>, ctx: RunContext): Promise<RunOutcome>;
  /** After a failure: true when it verifiably changed nothing. */
  absent?(step: StepOf<K>, ctx: RunContext): Promise<boolean>;
}

/** Each resource's runners, one per step kind. */
export type RunnersFor<K extends StepKind> = { [P in K]: Runner<P> };

// One class for every cancelled wait, the Compute client's retry pauses included.
export { CancelledError };
export const sleep = abortableSleep;

/** The Compute calls of a step: their retry pauses and operation waits end when the operation is cancelled. */
export function compute(ctx: RunContext): RunnerCompute {
  return ctx.compute.withSignal(ctx.signal);
}

/** A delete's outcome as a step's: a note when there was nothing to delete (a resumed or repeated step). */
export function deleted(r: MutationResult, note = 'already gone'): RunOutcome {
  return r === 'absent' ? { note } : {};
}

/**
 * Right before an etcd membership change: a cancelled operation, or one whose
 * lock was lost (the executor folds the lock's signal into ctx.signal), changes
 * nothing more. Compute calls check the same signal before every request.
 */
export function mayChange(ctx: RunContext): void {
  if (ctx.signal?.aborted) throw new CancelledError('cancelled');
}

/** A failure that waiting will not fix: `until` stops at once. */
export class Permanent extends Error {}

/** Polls until `probe` returns a value; throws with `what` and the last reason at the deadline. */
export async function until<T>(
  ctx: RunContext,
  timeoutMs: number,
  what: string,
  probe: () => Promise<{ value: T } | { reason: string }>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let reason = 'no answer yet';
  for (;;) {
    try {
      const r = await probe();
      if ('value' in r) return r.value;
      reason = r.reason;
    } catch (err) {
      if (err instanceof Permanent || err instanceof CancelledError) throw err;
      reason = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline)
      throw new Error(`${what}: not done in ${Math.round(timeoutMs / 1000)} s (${reason})`);
    await sleep(ctx.timing.pollMs, ctx.signal);
  }
}

export const memberFact = (cluster: EtcdClusterName) => `member.${cluster}`;
export const peerFact = (cluster: EtcdClusterName) => `peerURL.${cluster}`;
