// The plan simulator's end-of-operation invariants: a 'done' operation left
// the replicas it planned, consistent; a 'rolled-back' one the cluster as it
// was (or as at the checkpoint past a point of no return); a 'failed' one
// leftovers that name what is left, so that doing them by hand (once the
// failed member is repaired) reaches a consistent cluster. Pure.
import { type Journal, leftovers, rollbackRecovery } from './journal.js';
import { diskNameOf, type Plan } from './plan.js';
import { consistencyProblems, type Violation } from './simulate-invariants.js';
import type { PlanSimulator } from './simulate-run.js';
import { cloneState, describeState, type SimState, sameResources } from './simulate-state.js';
import { runForward, runUndo } from './simulate-steps.js';

const sameSet = (a: Iterable<string>, b: Iterable<string>) =>
  JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/**
 * The replicas a rollback past the point of no return leaves: those before,
 * less the removed one; once the result was verified (only the old disk's
 * deletion after it), those after.
 */
function checkpointReplicas(plan: Plan, j: Journal): string[] {
  if (j.steps.some((r) => r.id === 'verify' && r.status === 'done')) return plan.replicasAfter;
  return plan.replicasBefore.filter((r) => r !== plan.remove?.name);
}

/** What a state at rest must be after `journal`, given how far it went. */
function restViolations(plan: Plan, j: Journal, s: SimState, initial: SimState, when: string): Violation[] {
  const out: Violation[] = [];
  const bad = (message: string) => out.push({ invariant: 'consistent', message: `${when}: ${message}` });
  const pnr = rollbackRecovery(j).pastPointOfNoReturn;
  if (!pnr && j.state !== 'done') {
    if (!sameResources(s, initial)) {
      bad(
        `not back where it started: ${JSON.stringify(describeState(s))} instead of ${JSON.stringify(describeState(initial))}`,
      );
    }
    return out;
  }
  const want = j.state === 'done' ? plan.replicasAfter : checkpointReplicas(plan, j);
  if (!sameSet(s.vms.keys(), want)) bad(`VMs ${[...s.vms.keys()].join(',')} instead of ${want.join(',')}`);
  // The removed member's disk goes only in the plan's last step: a rollback, a failure before it
  // or --keep-disk leave it (for kube-ha cleanup); once that step is done, it must be gone.
  const diskGone = j.steps.some((r) => r.id === 'remove.disk' && r.status === 'done');
  const kept = new Set(plan.remove && !diskGone ? [diskNameOf(plan.remove.name)] : []);
  for (const p of consistencyProblems(s, kept)) bad(p);
  return out;
}

/**
 * Facts a person finishing by hand can find out, which the journal may have
 * lost: a learner's peer URL follows from its step and its address.
 */
function manualFacts(plan: Plan, facts: Record<string, string>): Record<string, string> {
  const out = { ...facts };
  for (const step of plan.steps) {
    if (step.kind !== 'etcd.add-learner') continue;
    const key = `peerURL.${step.args.cluster}`;
    out[key] ??= `${step.args.replica} (${step.args.cluster})`;
  }
  return out;
}

/**
 * (d) A failed operation: its leftovers are not empty, and doing them by
 * hand, in their order, once the member that failed is repaired, succeeds
 * and reaches where a rollback would have.
 */
export function leftoverViolations(sim: PlanSimulator): Violation[] {
  const j = sim.journal;
  if (!j || j.state !== 'failed') return [];
  const out: Violation[] = [];
  const items = leftovers(j);
  if (items.length === 0) {
    out.push({ invariant: 'leftovers', message: 'failed, and the leftovers name nothing to finish' });
    return out;
  }
  const s = cloneState(sim.state);
  s.down.clear();
  const facts = manualFacts(sim.plan, j.facts);
  const byId = new Map(sim.plan.steps.map((x) => [x.id, x]));
  for (const item of items) {
    const step = byId.get(item.stepId)!;
    const res =
      item.need === 'needs-forward'
        ? runForward(step, s, facts)
        : (runUndo(step, s, facts) ?? { ok: true as const, note: '' });
    if (!res.ok) {
      out.push({ invariant: 'leftovers', message: `by hand, ${item.what}: ${res.error}` });
      return out;
    }
  }
  const rolled: Journal = { ...j, state: 'rolled-back' };
  for (const v of restViolations(sim.plan, rolled, s, sim.initial, 'after the leftovers by hand'))
    out.push({ invariant: 'leftovers', message: v.message });
  return out;
}

/** (c) and (d) at the end of a scenario, from the journal as last written. */
export function endViolations(sim: PlanSimulator): Violation[] {
  const j = sim.journal;
  if (!j) return [];
  if (j.state === 'failed') return leftoverViolations(sim);
  if (j.state === 'running' || j.state === 'rolling-back') {
    return [{ invariant: 'consistent', message: `left unfinished (${j.state})` }];
  }
  return restViolations(sim.plan, j, sim.state, sim.initial, `${j.state}`);
}
