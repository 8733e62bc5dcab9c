// The plan simulator (src/domain/ops/simulate-*): every plan kind and size,
// every single fault at every step (a failure before or after its change, the
// process dying before, during or after it) followed by the in-process
// rollback, `operation rollback` and `operation resume`, and a second fault
// inside the rollback of a failed run; each judged by the invariants after
// every change and at the end. Then the bug of issue 11 (undo in reverse plan
// order), and properties over random clusters with a member failing midway.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Journal, Recovery } from '../../src/domain/ops/journal.js';
import { rollbackRecovery } from '../../src/domain/ops/journal.js';
import { type PlannedOperation, planOperation } from '../../src/domain/ops/operation.js';
import { buildPlan, type Plan } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import { effectSnapshot, effectViolations } from '../../src/domain/ops/simulate-invariants.js';
import { type Command, REAL_RECOVERY, type RecoveryRules } from '../../src/domain/ops/simulate-run.js';
import {
  FAULTS,
  faultScenarios,
  runScenario,
  type Scenario,
  type ScenarioRun,
} from '../../src/domain/ops/simulate-scenarios.js';
import { type SimState, simStateOf } from '../../src/domain/ops/simulate-state.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { crash, healthy } from '../helpers/observations.js';
import { runs } from '../helpers/property.js';
import { crashed, ctx, ipStyle, status, vmStopped } from '../ops/fixtures.js';

type Style = 'hostname' | 'ip';

const cluster = (n: number, style: Style): ClusterStatus => (style === 'ip' ? ipStyle(n) : status(n));
const nameOf = (s: ClusterStatus, i: number) => s.replicas[i]!.name;

function planFor(s: ClusterStatus, request: OpRequest): Plan {
  const p = planOperation(s, request, ctx());
  if (!p.ok || !p.plan) throw new Error(`refused: ${p.refusals.join('; ')}`);
  return p.plan;
}

interface Case {
  name: string;
  status: ClusterStatus;
  request: OpRequest;
}

/** The replica whose members the status shows unhealthy (the crashed one). */
const crashedName = (s: ClusterStatus) => s.replicas.find((r) => !r.etcd.main?.healthy)!.name;

function cases(): Case[] {
  const out: Case[] = [];
  for (const style of ['hostname', 'ip'] as const) {
    for (const n of [1, 2, 3, 4]) {
      out.push({
        name: `add ${n}→${n + 1} (${style})`,
        status: cluster(n, style),
        request: { kind: 'add', zone: 'us-central1-f', name: null },
      });
    }
    for (const n of [5, 4, 3, 2]) {
      // The first replica is the clone source and, from 2, the survivor's peer; the last is neither.
      for (const i of n <= 3 ? [0, n - 1] : [n - 1]) {
        const s = cluster(n, style);
        out.push({
          name: `remove ${nameOf(s, i)} from ${n} (${style})`,
          status: s,
          request: { kind: 'remove', replica: nameOf(s, i), zone: null },
        });
      }
    }
    for (const n of [2, 3, 4, 5]) {
      const s = cluster(n, style);
      out.push({
        name: `replace healthy ${nameOf(s, n - 1)} in ${n}, forced (${style})`,
        status: s,
        request: { kind: 'replace', replica: nameOf(s, n - 1), zone: null, force: true },
      });
    }
  }
  for (const [n, i] of [
    [3, 0],
    [3, 2],
    [4, 3],
    [5, 4],
  ] as const) {
    const s = crashed(n, i);
    out.push({
      name: `replace crashed ${crashedName(s)} in ${n}`,
      status: s,
      request: { kind: 'replace', replica: crashedName(s), zone: null, force: false },
    });
  }
  // kube-ha reset | start: a hung replica, a healthy one forced, a stopped one, and quorum lost.
  const hung = crashed(3, 1);
  const lost = crashed(3, 1, 2);
  const off = vmStopped(3, 'TERMINATED', 2);
  const allOff = vmStopped(3, 'TERMINATED', 0, 1, 2);
  out.push(
    {
      name: 'reset hung in 3',
      status: hung,
      request: { kind: 'reset', replica: nameOf(hung, 1), force: false },
    },
    {
      name: 'reset healthy in 3, forced',
      status: status(3),
      request: { kind: 'reset', replica: nameOf(hung, 0), force: true },
    },
    {
      name: 'start TERMINATED in 3',
      status: off,
      request: { kind: 'start', replica: nameOf(off, 2), force: false },
    },
    {
      name: 'reset 1 of 2 hung in 3 (no quorum)',
      status: lost,
      request: { kind: 'reset', replica: nameOf(lost, 1), force: false },
    },
    {
      name: 'start 1 of 3 TERMINATED (no quorum)',
      status: allOff,
      request: { kind: 'start', replica: nameOf(allOff, 0), force: false },
    },
  );
  return out;
}

interface Known {
  /** Where it was found and what should change, for the report. */
  what: string;
  applies(c: Case): boolean;
  scenario(r: ScenarioRun): boolean;
  message: RegExp;
}

/**
 * Deviations the simulator finds outside the files this suite may change
 * (src/ops, or a plan design choice). Each must still be found: once fixed,
 * the test fails here and the entry goes.
 */
const KNOWN: Known[] = [
  {
    what: 'replace in 2 rolled back past its point of no return leaves one replica behind the load balancer (pool and rule kept, static IP not on the VM)',
    applies: (c) => c.request.kind === 'replace' && c.status.replicas.length === 2,
    scenario: () => true,
    message: /one replica but a (forwarding rule|target pool)|the static IP is on nothing/,
  },
];

/** Violations of scenario runs, split into the known deviations (which of them were seen) and the rest. */
function judge(c: Case, runs: ScenarioRun[]) {
  const lines = runs.flatMap((r) => r.violations.map((v) => ({ r, line: `[${v.invariant}] ${v.message}` })));
  const known = KNOWN.filter((k) => k.applies(c));
  const matches = (k: Known, l: { r: ScenarioRun; line: string }) =>
    k.scenario(l.r) && k.message.test(l.line);
  return {
    unknown: lines
      .filter((l) => !known.some((k) => matches(k, l)))
      .map((l) => `${l.r.scenario.name}: ${l.line}`),
    stillFound: known.map((k) => lines.some((l) => matches(k, l))),
  };
}

describe('plan simulator: every fault at every step of every plan', () => {
  it.each(cases().map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const plan = planFor(c.status, c.request);
    const initial = simStateOf(c.status);
    // Without a fault: done, with the planned replicas, consistent.
    const clean = runScenario(plan, initial, { name: 'clean', faults: new Map(), recover: [] });
    expect(clean.sim.results.map((r) => r.outcome)).toEqual(['done']);
    expect([...clean.sim.state.vms.keys()].sort()).toEqual([...plan.replicasAfter].sort());
    expect(clean.violations).toEqual([]);
    const runs = faultScenarios(plan, initial).map((s) => runScenario(plan, initial, s));
    const { unknown, stillFound } = judge(c, runs);
    // Every step is hit by every fault: at least 8 scenarios per step.
    expect(runs.length).toBeGreaterThanOrEqual(plan.steps.length * 8);
    expect(unknown).toEqual([]);
    expect(stillFound).not.toContain(false);
  });

  it('refuses what cannot run at all: replace in 1, replace of a crashed replica in 2 (no quorum)', () => {
    for (const s of [status(1), crashed(2, 1)]) {
      const target = s.replicas.length === 1 ? nameOf(s, 0) : crashedName(s);
      const p = planOperation(s, { kind: 'replace', replica: target, zone: null, force: true }, ctx());
      expect(p.ok).toBe(false);
      expect(p.refusals.join(' ')).toMatch(/last voter|only replica|lost quorum/);
    }
  });
});

describe('plan simulator: a reset the checks would refuse', () => {
  it('a forced reset of a voter quorum depends on (2 replicas): refused again at run time; the invariant sees the loss', () => {
    const s = status(2);
    const request: OpRequest = { kind: 'reset', replica: nameOf(s, 1), force: true };
    expect(planOperation(s, request, ctx()).refusals.join(' ')).toMatch(/reset-keeps-quorum/);
    const built = buildPlan(s, request, ctx());
    if (!built.ok) throw new Error(built.reason);
    // Past the checks (a plan made when a third voter was healthy): the runner's fresh look refuses.
    const run = runScenario(built.plan, simStateOf(s), { name: 'clean', faults: new Map(), recover: [] });
    expect(run.violations).toEqual([]);
    expect(run.sim.results.map((r) => r.outcome)).toEqual(['rolled-back']);
    expect(run.sim.trace.find((t) => t.stepId === 'reset.instance')?.note).toMatch(
      /etcd main depends on kubernetes-master-x7k for quorum: not reset/,
    );
    // Had it reset the VM, the invariant would have said so.
    const state = simStateOf(s);
    const before = effectSnapshot(state);
    state.down.add(nameOf(s, 1));
    expect(effectViolations(before, state, 'reset').map((v) => v.message)).toContainEqual(
      expect.stringMatching(/reset: etcd main lost quorum \(1 healthy of 2 voters/),
    );
  });
});

/** Undo in plain reverse plan order: what rollback did before safeUndoOrder (issue 11). */
const NAIVE: RecoveryRules = {
  resume: REAL_RECOVERY.resume,
  rollback(j: Journal): Recovery {
    const r = rollbackRecovery(j);
    const at = new Map(j.plan.steps.map((s, i) => [s.id, i]));
    return { ...r, undo: [...r.undo].sort((a, b) => at.get(b)! - at.get(a)!) };
  },
};

describe('issue 11: a failed 1→2 add must not lose quorum on its rollback', () => {
  const s = status(1);
  const plan = planFor(s, { kind: 'add', zone: 'us-central1-b', name: null });
  const initial = simStateOf(s);
  const failAt = (stepId: string): Scenario => {
    const clean = runScenario(plan, initial, { name: 'clean', faults: new Map(), recover: [] }).sim;
    const n = clean.trace.find((t) => t.stepId === stepId)!.n;
    return { name: `${stepId} fails`, faults: new Map([[n, 'fail-before']]), recover: [] };
  };

  it.each([
    'add.pool',
    'verify',
  ])('%s fails: reverse plan order deletes the VM of a voter; the real order does not', (id) => {
    const naive = runScenario(plan, initial, failAt(id), NAIVE);
    const kinds = new Set(naive.violations.map((v) => v.invariant));
    // The new VM goes while its member votes (b), and etcd, 1 healthy of 2 voters, loses quorum (a).
    expect(kinds).toContain('vm-of-member');
    expect(kinds).toContain('quorum');
    expect(naive.violations.find((v) => v.invariant === 'quorum')?.message).toMatch(
      /undo of add\.instance: etcd main lost quorum \(1 healthy of 2 voters/,
    );
    // And the dead voter cannot be removed any more: the rollback stops, failed.
    expect(naive.sim.results.at(-1)?.journalState).toBe('failed');

    const real = runScenario(plan, initial, failAt(id));
    expect(real.violations).toEqual([]);
    expect(real.sim.results.map((r) => r.outcome)).toEqual(['rolled-back']);
    const order = real.sim.trace.filter((t) => t.mode === 'undo').map((t) => t.stepId);
    expect(order.indexOf('add.learner.main')).toBeLessThan(order.indexOf('add.instance'));
    expect(real.sim.state.staticIPOn).toBe(nameOf(s, 0));
  });

  it('the fault table finds it too, in the adds from 1 and 2', () => {
    for (const n of [1, 2]) {
      const st = status(n);
      const p = planFor(st, { kind: 'add', zone: 'us-central1-f', name: null });
      const init = simStateOf(st);
      const bad = faultScenarios(p, init)
        .filter((sc) => sc.name.includes('add.pool'))
        .map((sc) => runScenario(p, init, sc, NAIVE))
        .filter((r) => r.violations.some((v) => v.invariant === 'vm-of-member'));
      expect(bad.map((r) => r.scenario.name)).toContainEqual(expect.stringMatching(/at run add\.pool, then/));
    }
  });
});

/** n replicas, peers by name or IP, optionally one crashed (its etcd members do not answer). */
function build(n: number, style: Style, down: number | null): ClusterStatus {
  const obs = healthy(n);
  for (const c of ['main', 'events'] as const) {
    let o = obs.etcd[c]!;
    if (style === 'ip') {
      const port = c === 'main' ? 2380 : 2381;
      for (const [i, m] of (o.members ?? []).entries()) m.peerURLs = [`https://127.20.1.${i + 1}:${port}`];
    }
    if (down !== null) o = crash(o, down);
    obs.etcd[c] = o;
  }
  return buildStatus(obs);
}

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 5 }),
  style: fc.constantFrom<Style>('hostname', 'ip'),
  kind: fc.constantFrom<Kind>('add', 'remove', 'replace-forced', 'replace-crashed'),
  target: fc.nat(),
  /** A member that fails during the operation: `who` modulo replicas (+1: the new one). */
  fails: fc.option(fc.record({ who: fc.nat(), at: fc.nat({ max: 60 }) }), { nil: null }),
  faults: fc.array(fc.record({ at: fc.nat({ max: 70 }), fault: fc.constantFrom(...FAULTS) }), {
    maxLength: 3,
  }),
  recover: fc.array(fc.constantFrom<Command>('rollback', 'resume'), { minLength: 1, maxLength: 3 }),
});

type Kind = 'add' | 'remove' | 'replace-forced' | 'replace-crashed';

/** Statuses and plans are few (size × style × kind × target): made once each, the runs are what vary. */
const plannedCache = new Map<
  string,
  { planned: PlannedOperation; status: ClusterStatus; request: OpRequest }
>();
function planned_(n: number, style: Style, kind: Kind, t: number) {
  const key = `${n} ${style} ${kind} ${t}`;
  let hit = plannedCache.get(key);
  if (!hit) {
    const s = build(n, style, kind === 'replace-crashed' ? t : null);
    const name = nameOf(s, t);
    const request: OpRequest =
      kind === 'add'
        ? { kind: 'add', zone: 'us-central1-f', name: null }
        : kind === 'remove'
          ? { kind: 'remove', replica: name, zone: null }
          : { kind: 'replace', replica: name, zone: null, force: kind === 'replace-forced' };
    hit = { planned: planOperation(s, request, ctx()), status: s, request };
    plannedCache.set(key, hit);
  }
  return hit;
}
const initials = new WeakMap<Plan, SimState>();
function initialOf(plan: Plan, s: ClusterStatus): SimState {
  let hit = initials.get(plan);
  if (!hit) {
    hit = simStateOf(s);
    initials.set(plan, hit);
  }
  return hit;
}

describe('plan simulator: properties over random clusters, faults and a failing member', () => {
  it('no operation or recovery breaks an invariant (beyond the known deviations)', () => {
    let ran = 0;
    fc.assert(
      fc.property(caseArb, (a) => {
        const { planned, status: s, request } = planned_(a.n, a.style, a.kind, a.target % a.n);
        if (!planned.ok || !planned.plan) {
          // Refused before anything runs (replace in 1, remove of the last voter...): it says why.
          expect(planned.refusals.length).toBeGreaterThan(0);
          return;
        }
        const plan = planned.plan;
        const replicas = [...plan.replicasBefore, ...(plan.add ? [plan.add.name] : [])];
        const who = a.fails ? replicas[a.fails.who % replicas.length]! : null;
        const scenario: Scenario = {
          name: JSON.stringify(a),
          faults: new Map(a.faults.map((f) => [f.at, f.fault])),
          memberFails: who && a.fails ? { replica: who, at: a.fails.at } : null,
          // Whatever the operator tried, rollbacks follow until the operation is finished or failed.
          recover: [...a.recover, 'rollback', 'rollback', 'rollback', 'rollback'],
        };
        const run = runScenario(plan, initialOf(plan, s), scenario);
        const c: Case = { name: `${a.kind} ${a.n} (${a.style})`, status: s, request };
        expect(judge(c, [run]).unknown).toEqual([]);
        ran++;
      }),
      { numRuns: runs(600) },
    );
    // Most random cases are plans that run, not refusals.
    expect(ran).toBeGreaterThan(runs(600) / 2);
  });
});
