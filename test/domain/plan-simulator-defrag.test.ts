// The plan simulator over `kube-ha defrag` plans: every fault at every step,
// then rollback or resume, judged by the invariants; and a member failing
// midway, where the defrag stops (no rollback: nothing to undo) and leaves
// the members not yet done to a resume, named in its leftovers.
import { describe, expect, it } from 'vitest';
import { leftovers } from '../../src/domain/ops/journal.js';
import { planOperation } from '../../src/domain/ops/operation.js';
import type { Plan } from '../../src/domain/ops/plan.js';
import { faultScenarios, runScenario } from '../../src/domain/ops/simulate-scenarios.js';
import { simStateOf } from '../../src/domain/ops/simulate-state.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { ctx, status } from '../ops/fixtures.js';

function planFor(s: ClusterStatus): Plan {
  const p = planOperation(s, { kind: 'defrag', cluster: null }, ctx());
  if (!p.ok || !p.plan) throw new Error(`refused: ${p.refusals.join('; ')}`);
  return p.plan;
}

describe('plan simulator: kube-ha defrag', () => {
  it.each([1, 3, 5])('every fault at every step of a defrag of %i members', (n) => {
    const s = status(n);
    const plan = planFor(s);
    const initial = simStateOf(s);
    const clean = runScenario(plan, initial, { name: 'clean', faults: new Map(), recover: [] });
    expect(clean.sim.results.map((r) => r.outcome)).toEqual(['done']);
    expect(clean.violations).toEqual([]);
    const runs = faultScenarios(plan, initial).map((sc) => runScenario(plan, initial, sc));
    expect(runs.length).toBeGreaterThanOrEqual(plan.steps.length * 8);
    const bad = runs.flatMap((r) =>
      r.violations.map((v) => `${r.scenario.name}: [${v.invariant}] ${v.message}`),
    );
    expect(bad).toEqual([]);
    // A failed step stops the run: never a rollback, the journal stays open for a resume.
    const failed = runs.filter(
      (r) => r.scenario.name.startsWith('fail-before') && r.scenario.recover.length === 1,
    );
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed)
      expect(r.sim.results[0]).toMatchObject({ outcome: 'failed', journalState: 'failed' });
  });

  it('a member that fails midway stops the defrag before the next member; a resume finishes once it is back', () => {
    const s = status(3);
    const plan = planFor(s);
    const initial = simStateOf(s);
    const members = plan.steps
      .filter((x) => x.kind === 'etcd.defrag')
      .map((x) => (x.args as { replica: string }).replica);
    // The last member (the leader) fails while the first is defragmented: the second may not start.
    const leader = members[2]!;
    const at = plan.steps.findIndex((x) => x.id === `defrag.member.main.${members[1]}`);
    const run = runScenario(plan, initial, {
      name: 'member fails',
      faults: new Map(),
      memberFails: { replica: leader, at },
      recover: [],
    });
    expect(run.sim.results[0]).toMatchObject({ outcome: 'failed', journalState: 'failed' });
    expect(run.sim.results[0]!.reasons.join(' ')).toMatch(/only 1 of 2 other voters answer: refused/);
    const j = run.sim.journal!;
    // The first member is done; the second, and everything after it, is left, named with how to do it by hand.
    expect(j.steps.find((x) => x.id === `defrag.member.main.${members[0]}`)!.status).toBe('done');
    const left = leftovers(j).map((l) => l.stepId);
    expect(left[0]).toBe(`defrag.member.main.${members[1]}`);
    expect(left).toContain(`defrag.member.main.${leader}`);
    expect(leftovers(j).every((l) => l.need === 'needs-forward' && l.manual)).toBe(true);
    // Once the member is back, `operation resume` finishes the defrag.
    run.sim.state.down.delete(leader);
    expect(run.sim.exec('resume')).toMatchObject({ outcome: 'done', journalState: 'done' });
  });
});
