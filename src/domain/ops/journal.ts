// The journal of one operation: the plan and what happened to each step. It
// is written to the state dir before and after every step, so that a killed
// console or script can be resumed or rolled back. The decisions here are
// pure: given a journal, which steps run forward and which are undone.
import type { OperationHolder } from './lock.js';
import type { Plan, PlanStep } from './plan.js';
import { stopsOnFailure } from './plan-defrag.js';

export type StepStatus =
  | 'pending'
  | 'running'
  | 'done'
  | 'skipped'
  | 'failed'
  | 'undoing'
  | 'undone'
  | 'undo-failed';

export interface StepRecord {
  id: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** What the runner found or decided (`already exists`, `not the leader: nothing to move`). */
  note?: string;
  /**
   * false: the runner checked after a failure that nothing changed. Without
   * it a failed step counts as possibly applied (a deadline can hide a success).
   */
  applied?: boolean;
  /**
   * The Compute request IDs this step sent, by mode and call ("forward:
   * instances.insert zone=… name=…"): kept before each call is sent, so that
   * a step run again after the process died sends the same IDs and GCE
   * answers with the first operation instead of applying it twice.
   */
  requestIds?: Record<string, string>;
}

export type JournalState = 'running' | 'rolling-back' | 'done' | 'rolled-back' | 'failed';

export interface Journal {
  format: 1;
  operationId: string;
  plan: Plan;
  holder: OperationHolder;
  state: JournalState;
  startedAt: string;
  updatedAt: string;
  steps: StepRecord[];
  /** Values learned while running that later steps and undos need (member IDs, IPs). */
  facts: Record<string, string>;
  /** Why it failed, for the last failure. */
  error?: string;
}

export function newJournal(plan: Plan, holder: OperationHolder, now: Date = new Date()): Journal {
  return {
    format: 1,
    operationId: plan.operationId,
    plan,
    holder,
    state: 'running',
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: plan.steps.map((s) => ({ id: s.id, status: 'pending' })),
    facts: {},
  };
}

export function isFinished(j: Journal): boolean {
  return j.state === 'done' || j.state === 'rolled-back';
}

export function updateStep(
  j: Journal,
  id: string,
  patch: Partial<StepRecord>,
  now: Date = new Date(),
): Journal {
  if (!j.steps.some((s) => s.id === id)) throw new Error(`journal ${j.operationId} has no step ${id}`);
  return {
    ...j,
    updatedAt: now.toISOString(),
    steps: j.steps.map((s) => (s.id === id ? { ...s, ...patch } : s)),
  };
}

/** May have changed something (and so may need undoing). */
export function started(r: StepRecord): boolean {
  if (r.status === 'failed') return r.applied !== false;
  return (
    r.status === 'running' || r.status === 'done' || r.status === 'undoing' || r.status === 'undo-failed'
  );
}

function completed(r: StepRecord): boolean {
  return r.status === 'done' || r.status === 'skipped';
}

export interface Recovery {
  /** Steps to run forward, in order. */
  forward: string[];
  /** Steps to undo, in order (reverse of the plan). */
  undo: string[];
  /** What this does, in words. */
  note: string;
  /** A step that cannot be undone has run: the cluster cannot return to where it started. */
  pastPointOfNoReturn: boolean;
}

function pairs(j: Journal): { step: PlanStep; rec: StepRecord; i: number }[] {
  return j.plan.steps.map((step, i) => {
    const rec = j.steps[i];
    if (!rec || rec.id !== step.id)
      throw new Error(`journal ${j.operationId} does not match its plan at step ${i}`);
    return { step, rec, i };
  });
}

/** Resume: every step not yet done, in plan order (runners are idempotent, so a half-run step runs again). */
export function resumeRecovery(j: Journal): Recovery {
  const forward = pairs(j)
    .filter(({ rec }) => !completed(rec))
    .map(({ step }) => step.id);
  return {
    forward,
    undo: [],
    note: forward.length
      ? `resume: ${forward.length} step(s) left, from ${forward[0]}`
      : 'nothing left to run',
    pastPointOfNoReturn: pairs(j).some(({ step, rec }) => !step.reversible && started(rec)),
  };
}

/**
 * Roll back. Before any point of no return: undo every step that may have
 * changed something, newest first. After one (a removed etcd member cannot
 * be put back): finish forward to the next checkpoint, where the cluster is
 * consistent again, and undo only what came after it.
 */
export function rollbackRecovery(j: Journal): Recovery {
  const ps = pairs(j);
  let k = -1;
  for (const { step, rec, i } of ps) if (!step.reversible && started(rec)) k = i;
  let forward: string[] = [];
  let from = 0;
  let note = 'undo every step taken, newest first';
  if (k >= 0) {
    const c = ps.findIndex(({ step, i }) => i >= k && step.checkpoint);
    const end = c >= 0 ? c : ps.length - 1;
    forward = ps
      .slice(k, end + 1)
      .filter(({ rec }) => !completed(rec))
      .map(({ step }) => step.id);
    from = end + 1;
    const pnr = ps[k]!.step;
    note =
      end === ps.length - 1
        ? `past the point of no return (${pnr.title}): rolling back means finishing the operation`
        : `past the point of no return (${pnr.title}): finish up to "${ps[end]!.step.title}", then undo what came after`;
  }
  const undo = safeUndoOrder(
    ps
      .slice(from)
      .filter(({ rec }) => started(rec))
      .map(({ step }) => step)
      .reverse(),
  ).map((s) => s.id);
  return { forward, undo, note, pastPointOfNoReturn: k >= 0 };
}

const replicaOf = (s: PlanStep): string | null =>
  s.kind === 'etcd.add-learner' || s.kind === 'instance.insert'
    ? ((s.args as { replica?: string; name?: string }).replica ?? (s.args as { name?: string }).name ?? null)
    : null;

/**
 * Newest first is not enough: once a learner was promoted, its member votes,
 * and deleting its VM first (undo of instance.insert, which comes after the
 * member steps in the plan) leaves a dead voter, which a 2-member cluster
 * cannot even remove: quorum lost. The invariant is that no VM of a member
 * goes while the member is in etcd, so a replica's member removals (undo of
 * etcd.add-learner) move ahead of the undo of its VM.
 */
export function safeUndoOrder(newestFirst: PlanStep[]): PlanStep[] {
  const out = [...newestFirst];
  for (let i = 0; i < out.length; i++) {
    const vm = out[i]!;
    if (vm.kind !== 'instance.insert') continue;
    const name = replicaOf(vm);
    const members = out.slice(i + 1).filter((s) => s.kind === 'etcd.add-learner' && replicaOf(s) === name);
    if (!members.length) continue;
    const rest = out.filter((s) => !members.includes(s));
    rest.splice(rest.indexOf(vm), 0, ...members);
    out.splice(0, out.length, ...rest);
    i += members.length;
  }
  return out;
}

export interface Leftover {
  stepId: string;
  title: string;
  /** needs-undo: changed and not undone. needs-forward: must still run to reach a consistent state. */
  need: 'needs-undo' | 'needs-forward';
  what: string;
  /** The command a person runs to finish by hand. */
  manual: string | null;
}

/**
 * What a failed rollback leaves behind, for the exit-1 message: the steps a
 * rollback would still have to run, with how to do each by hand.
 */
export function leftovers(j: Journal): Leftover[] {
  // A plan that stops instead of rolling back (a defrag): what is left is what a resume would run.
  const rec = stopsOnFailure(j.plan) ? resumeRecovery(j) : rollbackRecovery(j);
  const byId = new Map(j.plan.steps.map((s) => [s.id, s]));
  const out: Leftover[] = [];
  for (const id of rec.forward) {
    const s = byId.get(id)!;
    if (s.kind === 'verify') continue;
    out.push({ stepId: id, title: s.title, need: 'needs-forward', what: s.changes, manual: s.manual });
  }
  for (const id of rec.undo) {
    const s = byId.get(id)!;
    if (!s.undo) continue;
    out.push({ stepId: id, title: s.title, need: 'needs-undo', what: s.undo, manual: s.manualUndo });
  }
  return out;
}

export function describeLeftovers(items: Leftover[]): string[] {
  if (items.length === 0) return ['nothing is left to undo or to finish'];
  return items.map(
    (l) =>
      `${l.need === 'needs-undo' ? 'undo' : 'finish'}: ${l.what}${l.manual ? `\n    by hand: ${l.manual}` : ''}`,
  );
}
