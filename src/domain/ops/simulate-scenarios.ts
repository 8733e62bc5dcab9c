// Failure scenarios for the plan simulator: a fault at one action of a run
// (each step failing before or after its change, the process dying before,
// during or after each step), then the in-process rollback, `operation
// rollback` or `operation resume`; and a second fault inside the rollback of
// a failed run. Each scenario is replayed from the plan and the initial state
// and judged by every invariant. Pure.
import type { Plan } from './plan.js';
import type { Violation } from './simulate-invariants.js';
import { endViolations, leftoverViolations } from './simulate-outcome.js';
import {
  type Action,
  type Command,
  type Fault,
  PlanSimulator,
  type RecoveryRules,
  type SimOptions,
} from './simulate-run.js';
import type { SimState } from './simulate-state.js';

export const FAULTS: readonly Fault[] = [
  'fail-before',
  'fail-after',
  'kill-before',
  'kill-mid',
  'kill-after-effect',
];

export interface Scenario {
  name: string;
  /** Faults by action number (counted over every command of the scenario). */
  faults: Map<number, Fault>;
  memberFails?: SimOptions['memberFails'];
  /** Commands after `run`, each run only while the operation is unfinished. */
  recover: Command[];
}

export interface ScenarioRun {
  scenario: Scenario;
  sim: PlanSimulator;
  violations: Violation[];
}

export function runScenario(
  plan: Plan,
  initial: SimState,
  scenario: Scenario,
  recovery?: RecoveryRules,
): ScenarioRun {
  const sim = new PlanSimulator(plan, initial, {
    fault: (a: Action) => scenario.faults.get(a.n) ?? null,
    memberFails: scenario.memberFails ?? null,
    ...(recovery ? { recovery } : {}),
  });
  const violations: Violation[] = [];
  const exec = (command: Command) => {
    const res = sim.exec(command);
    if (res.journalState === 'failed') violations.push(...leftoverViolations(sim));
    return res;
  };
  let last = exec('run');
  for (const command of scenario.recover) {
    if (!sim.unfinished()) break;
    last = exec(command);
  }
  // A process that died last leaves the operation to the next operator: one more rollback, as often as it dies.
  for (let i = 0; i < scenario.faults.size && sim.unfinished() && last.outcome === 'killed'; i++)
    last = exec('rollback');
  violations.push(...sim.violations, ...endViolations(sim));
  return { scenario, sim, violations };
}

const isKill = (f: Fault) => f.startsWith('kill');

/** The recoveries after a fault: a failure rolls back in process (and once more by hand if that fails). */
function recoveriesAfter(f: Fault): Command[][] {
  return isKill(f)
    ? [
        ['rollback', 'rollback'],
        ['resume', 'rollback'],
      ]
    : [['rollback']];
}

function label(trace: PlanSimulator['trace'], n: number): string {
  const t = trace.find((x) => x.n === n);
  return t ? `${t.command} ${t.mode === 'undo' ? 'undo ' : ''}${t.stepId}` : `action ${n}`;
}

/**
 * Every single fault at every action of a clean run, each followed by every
 * recovery; then every fault at every action of the rollback after the last
 * step fails, and of the one after the step past the point of no return fails.
 */
export function faultScenarios(plan: Plan, initial: SimState): Scenario[] {
  const out: Scenario[] = [];
  const clean = runScenario(plan, initial, { name: 'clean', faults: new Map(), recover: [] }).sim;
  out.push({ name: 'no fault', faults: new Map(), recover: [] });
  for (const t of clean.trace) {
    for (const f of FAULTS) {
      for (const then of recoveriesAfter(f)) {
        out.push({
          name: `${f} at ${label(clean.trace, t.n)}, then ${then.join(', ')}`,
          faults: new Map([[t.n, f]]),
          recover: then,
        });
      }
    }
  }
  // Second faults inside two rollbacks: after the last step failed (the longest undo), and, where
  // the plan has a point of no return, after the step past it failed (a rollback finishing forward).
  const last = clean.trace.length - 1;
  const pnr = plan.steps.findIndex((x) => !x.reversible);
  const bases = [...new Set([last, ...(pnr >= 0 && pnr + 1 < last ? [pnr + 1] : [])])];
  for (const at of bases) {
    const base = new Map<number, Fault>([[at, 'fail-before']]);
    const failed = runScenario(plan, initial, { name: 'base', faults: base, recover: [] }).sim;
    for (const t of failed.trace.filter((x) => x.n > at)) {
      for (const f of FAULTS) {
        for (const then of recoveriesAfter(f)) {
          out.push({
            name: `${label(clean.trace, at)} fails, then ${f} at ${label(failed.trace, t.n)}, then ${then.join(', ')}`,
            faults: new Map([...base, [t.n, f]]),
            recover: then,
          });
        }
      }
    }
  }
  return out;
}
