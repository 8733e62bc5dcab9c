// The executor against Compute and etcd in memory (issue 11 item 8): for the
// add and remove plans, each step failing before its change and after it (the
// change applied, its answer lost), the outcome, the exit code, what is left
// (the start, the planned end, or leftovers that name the step) and that no VM
// was deleted while its member voted. Milliseconds per case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planOperation } from '../../src/domain/ops/operation.js';
import type { Plan, PlanStep } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import type { ClusterStatus, EtcdClusterName, MemberView } from '../../src/domain/types.js';
import { ETCD_CLUSTERS } from '../../src/domain/types.js';
import type { EtcdOps } from '../../src/ops/etcd-ops.js';
import type { OpResult } from '../../src/ops/events.js';
import { type ExecDeps, executePlan, rollbackOperation } from '../../src/ops/executor.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import type { Timing } from '../../src/ops/runners.js';
import { type ComputeChange, FakeCompute } from './fake-compute.js';
import { type EtcdChange, FakeEtcd, hostOf } from './fake-etcd.js';
import { FakeLock } from './fake-lock.js';
import { ctx, REGION_ZONES, status } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-exec-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every wait gives up at once: a wait that fails here fails by its deadline. */
const FAST: Timing = {
  catchUpTimeoutMs: 30,
  runningTimeoutMs: 30,
  lbReadyTimeoutMs: 30,
  verifyTimeoutMs: 30,
  pollMs: 1,
};

interface World {
  base: ClusterStatus;
  compute: FakeCompute;
  etcd: Record<EtcdClusterName, FakeEtcd>;
  /** VMs deleted while their member voted. */
  violations: string[];
  /** The step running now, and the step whose observations fail. */
  step: string | null;
  observeFailsIn: string | null;
}

function world(n: number): World {
  const base = status(n);
  const compute = FakeCompute.fromStatus(base);
  const etcd = {
    main: FakeEtcd.fromStatus('main', base, compute),
    events: FakeEtcd.fromStatus('events', base, compute),
  };
  const w: World = { base, compute, etcd, violations: [], step: null, observeFailsIn: null };
  compute.onChange((method, label) => {
    if (method !== 'deleteInstance') return;
    const name = /name=(\S+)/.exec(label)?.[1] ?? '';
    for (const c of ETCD_CLUSTERS) {
      const m = etcd[c].memberOf(name);
      if (m && !m.isLearner) w.violations.push(`VM ${name} deleted while a voter of etcd ${c}`);
    }
  });
  return w;
}

/** The cluster as the CLI's observer would see it: the fixture's, with what the fakes hold now. */
function observe(w: World): ClusterStatus {
  if (w.step && w.step === w.observeFailsIn) throw new Error('cannot observe (injected)');
  const res = w.compute.resources();
  const template = w.base.replicas[0]!;
  const rule = res.rules[0] ?? null;
  const pool = rule ? res.pools.find((p) => p.name === rule.pool) : undefined;
  const replicas = res.instances.map((inst) => {
    const b = w.base.replicas.find((r) => r.name === inst.name) ?? template;
    const etcd = {} as Record<EtcdClusterName, MemberView | null>;
    for (const c of ETCD_CLUSTERS) {
      const m = w.etcd[c].memberOf(inst.name);
      const like = b.etcd[c] ?? template.etcd[c]!;
      etcd[c] = m
        ? {
            ...like,
            memberId: m.id,
            name: m.name || `etcd-${inst.name}`,
            peerURLs: m.peerURLs,
            learner: m.isLearner,
            healthy: true,
            leader: w.etcd[c].leader === m.id,
          }
        : null;
    }
    return {
      ...b,
      name: inst.name,
      zone: inst.zone,
      vm: { ...b.vm, status: inst.status as 'RUNNING', internalIP: inst.networkIP, externalIP: inst.natIP },
      etcd,
      inTargetPool: Boolean(pool?.instances.includes(inst.name)),
    };
  });
  const staticIP = res.addresses.find((a) => a.name.endsWith('-ip'))?.address ?? null;
  return {
    ...w.base,
    replicas,
    loadBalancer: rule
      ? { forwardingRule: rule.name, ip: rule.ip, targetPool: rule.pool, instances: pool?.instances ?? [] }
      : null,
    apiserverIP: {
      address: staticIP,
      attachedTo: rule
        ? 'load-balancer'
        : (res.instances.find((i) => i.natIP && i.natIP === staticIP)?.name ?? null),
    },
  };
}

/** What a test compares: resources by name (addresses as IPs are not), members by peer URL. */
function shape(w: World) {
  const r = w.compute.resources();
  return {
    instances: r.instances.map((i) => `${i.name} ${i.zone} ${i.status}`),
    disks: r.disks.map((d) => d.name),
    addresses: r.addresses.map((a) => a.name),
    pools: r.pools,
    rules: r.rules.map((x) => `${x.name} → ${x.pool}`),
    healthChecks: r.healthChecks,
    staticIPOn: observe({ ...w, observeFailsIn: null }).apiserverIP?.attachedTo ?? null,
    etcd: { main: w.etcd.main.membership(), events: w.etcd.events.membership() },
  };
}

let seq = 0;
function deps(w: World, over: Partial<ExecDeps> = {}): ExecDeps {
  // Never lost here: the lock's own cases are in executor-lock.test.ts.
  const lock = new FakeLock();
  return {
    compute: w.compute,
    // The runners use only what RunnerEtcd names; the lock is faked, so nothing else is called.
    etcd: w.etcd as unknown as Record<EtcdClusterName, EtcdOps>,
    store: new JournalStore(join(dir, `s${seq++}`)),
    observe: async () => observe(w),
    zonesInRegion: async () => REGION_ZONES,
    holder: { user: 'test', host: 'here', pid: process.pid, tool: 'executor-table.test' },
    timing: FAST,
    apiserverProbe: null,
    subscribeCalls: () => () => {},
    acquireLock: async () => ({ ok: true, lock }),
    ...over,
  };
}

function planFor(base: ClusterStatus, request: OpRequest): Plan {
  const p = planOperation(base, request, ctx());
  if (!p.plan) throw new Error(p.refusals.join('; '));
  return p.plan;
}

type Injection =
  | { on: 'compute'; method: ComputeChange }
  | { on: 'etcd'; cluster: EtcdClusterName; method: EtcdChange }
  | { on: 'stuck'; cluster: EtcdClusterName }
  | { on: 'observe'; step: string };

/** The change a step makes, where it can be made to fail; null: the step changes nothing here. */
function injectionFor(step: PlanStep): Injection | null {
  switch (step.kind) {
    case 'disk.create':
      return { on: 'compute', method: 'insertDisk' };
    case 'etcd.add-learner':
      return { on: 'etcd', cluster: step.args.cluster, method: 'addLearner' };
    case 'instance.insert':
      return { on: 'compute', method: 'insertInstance' };
    case 'etcd.wait-caught-up':
      return { on: 'stuck', cluster: step.args.cluster };
    case 'etcd.promote':
      return { on: 'etcd', cluster: step.args.cluster, method: 'promote' };
    case 'lb.add-instance':
      return { on: 'compute', method: 'addToPool' };
    case 'etcd.move-leader':
      return { on: 'etcd', cluster: step.args.cluster, method: 'moveLeader' };
    case 'lb.remove-instance':
      return { on: 'compute', method: 'removeFromPool' };
    case 'etcd.remove-member':
      return { on: 'etcd', cluster: step.args.cluster, method: 'remove' };
    case 'instance.delete':
      return { on: 'compute', method: 'deleteInstance' };
    case 'disk.delete':
      return { on: 'compute', method: 'deleteDisk' };
    case 'lb.delete-forwarding-rule':
      return { on: 'compute', method: 'deleteForwardingRule' };
    case 'lb.attach-static-ip':
      return { on: 'compute', method: 'addAccessConfig' };
    case 'lb.delete-target-pool':
      return { on: 'compute', method: 'deleteTargetPool' };
    case 'lb.delete-health-check':
      return { on: 'compute', method: 'deleteHealthCheck' };
    case 'verify':
      return { on: 'observe', step: step.id };
    default:
      return null;
  }
}

function inject(w: World, i: Injection, when: 'before' | 'after'): void {
  if (i.on === 'compute') w.compute.fail({ method: i.method, when });
  else if (i.on === 'etcd') w.etcd[i.cluster].faults.push({ method: i.method, when });
  else if (i.on === 'stuck') w.etcd[i.cluster].stuck = true;
  else w.observeFailsIn = i.step;
}

interface Scenario {
  name: string;
  replicas: number;
  request: OpRequest;
}

const SCENARIOS: Scenario[] = [
  { name: 'add 3→4', replicas: 3, request: { kind: 'add', zone: 'us-central1-f', name: null } },
  {
    name: 'remove the leader 3→2',
    replicas: 3,
    request: { kind: 'remove', replica: 'kubernetes-master', zone: null },
  },
  {
    name: 'remove 2→1 (the load balancer goes)',
    replicas: 2,
    request: { kind: 'remove', replica: 'kubernetes-master', zone: null },
  },
];

async function run(s: Scenario, setup: (w: World, plan: Plan) => void) {
  const w = world(s.replicas);
  const plan = planFor(w.base, s.request);
  const start = shape(w);
  setup(w, plan);
  const res = await executePlan(plan, deps(w), {
    onEvent: (e) => {
      if (e.type === 'step-start') w.step = e.step.id;
    },
  });
  return { w, plan, start, res, end: shape(w) };
}

function summary(res: OpResult) {
  return { outcome: res.outcome, exitCode: res.exitCode };
}

describe('executor table: no failure', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: done (exit 0), the planned replicas everywhere`, async () => {
      const { res, plan, w, start, end } = await run(s, () => {});
      expect(summary(res), res.reasons.join('\n')).toEqual({ outcome: 'done', exitCode: 0 });
      const after = [...plan.replicasAfter].sort();
      expect(w.compute.resources().instances.map((i) => i.name)).toEqual(after);
      for (const c of ETCD_CLUSTERS) {
        expect(end.etcd[c].map((m) => hostOf(m.peerURL)).sort()).toEqual(after);
        expect(end.etcd[c].filter((m) => m.learner)).toEqual([]);
      }
      expect(end).not.toEqual(start);
      expect(w.violations).toEqual([]);
    });
  }
});

/**
 * What a failure leaves, by where it happens: before a remove's first etcd
 * removal took effect, everything is rolled back; past it (the point of no
 * return) the replica stays removed and the rest is finished (exit 4, "rolled
 * back to the point after removing"); a verification that cannot observe after
 * every change was made is exit 1 with nothing left to undo.
 */
function expected(plan: Plan, id: string, when: 'before' | 'after') {
  // The removed member's disk goes last, after verify: a failure before that keeps it ('kept').
  if (id === 'verify' && plan.remove)
    return { outcome: 'failed', exitCode: 1, state: 'kept', reason: /did not verify/ } as const;
  // Its deletion failing once is retried by the rollback, which then means finishing: done.
  if (id === 'remove.disk') return { outcome: 'done', exitCode: 0, state: 'end', reason: null } as const;
  const steps = plan.steps.map((x) => x.id);
  const firstRemoval = steps.findIndex((x) => x.startsWith('remove.member.'));
  const at = steps.indexOf(id);
  const past = plan.remove !== null && (at > firstRemoval || (at === firstRemoval && when === 'after'));
  return past
    ? ({
        outcome: 'rolled-back',
        exitCode: 4,
        state: 'kept',
        reason: /rolled back to the point after removing/,
      } as const)
    : ({ outcome: 'rolled-back', exitCode: 4, state: 'start', reason: null } as const);
}

/** Steps that change nothing in these scenarios: the fixture's pool has no health check (kube-up's). */
const QUIET = new Set(['lb.delete-health-check']);

describe.each(SCENARIOS)('executor table: $name', (s) => {
  const plan = planFor(status(s.replicas), s.request);
  // The planned end: where the same plan ends when nothing fails (checked above).
  const cleanEnd = run(s, () => {}).then((r) => r.end);
  const cases = plan.steps.flatMap((step) => {
    const i = injectionFor(step);
    if (!i || QUIET.has(step.id)) return [];
    // A wait or a check has no change to fail after.
    const points: ('before' | 'after')[] =
      i.on === 'stuck' || i.on === 'observe' ? ['before'] : ['before', 'after'];
    return points.map((when) => ({ id: step.id, title: step.title, when, i }));
  });

  it('covers every step that changes something', () => {
    const covered = new Set(cases.map((c) => c.id));
    const uncovered = plan.steps.filter((x) => !covered.has(x.id)).map((x) => x.kind);
    // The apiserver wait is skipped without a probe, the snapshot without a snapshot dir (it changes
    // nothing in the cluster; its failure is in executor-journal.test.ts); see QUIET for the rest.
    const quiet = ['apiserver.wait-healthy', 'lb.delete-health-check', 'etcd.snapshot'];
    expect(uncovered.filter((k) => !quiet.includes(k))).toEqual([]);
  });

  it.each(cases)('$id fails $when its change', async ({ id, title, i, when }) => {
    const clean = await cleanEnd;
    const { res, start, end, w } = await run(s, (w) => inject(w, i, when));
    const want = expected(plan, id, when);
    expect(summary(res), res.reasons.join('\n')).toEqual({ outcome: want.outcome, exitCode: want.exitCode });
    // The failure reported is the one injected, in this step.
    expect(res.reasons[0]).toContain(title);
    if (want.reason) expect(res.reasons.join('\n')).toMatch(want.reason);
    expect(res.leftovers).toEqual([]);
    const kept = plan.remove ? [`${plan.remove.name}-pd`] : [];
    const keptEnd = { ...clean, disks: [...clean.disks, ...kept].sort() };
    expect(end).toEqual(want.state === 'start' ? start : want.state === 'kept' ? keptEnd : clean);
    // A rollback says which disk it kept, and how it goes.
    if (want.state === 'kept' && want.outcome === 'rolled-back')
      expect(res.reasons.at(-1)).toMatch(
        /^disk kubernetes-master-pd in \S+ .* is kept: kube-ha cleanup deletes it$/,
      );
    expect(w.violations).toEqual([]);
  });
});

describe('executor table: refusals and failed undos', () => {
  const add = SCENARIOS[0]!;

  it('replicas changed since the plan: refused (exit 3), nothing changed', async () => {
    const w = world(3);
    const plan = planFor(w.base, add.request);
    const start = shape(w);
    const res = await executePlan(plan, deps(w, { observe: async () => status(4) }));
    expect(summary(res)).toEqual({ outcome: 'refused', exitCode: 3 });
    expect(res.reasons.join('\n')).toMatch(/the replicas changed since the plan was made/);
    expect(w.compute.calls).toEqual([]);
    expect([...w.etcd.main.calls, ...w.etcd.events.calls]).toEqual([]);
    expect(shape(w)).toEqual(start);
  });

  it("an undo that fails: exit 1, the leftovers name it, and the rest of the rollback's work stands", async () => {
    const { res, start, end, w } = await run(add, (w) => {
      w.compute.fail({ method: 'addToPool', when: 'before' });
      // The disk's undo (its delete is the first deleteDisk of the run) fails.
      w.compute.fail({ method: 'deleteDisk', when: 'before' });
    });
    expect(summary(res)).toEqual({ outcome: 'failed', exitCode: 1 });
    expect(res.reasons.join('\n')).toMatch(/rollback stopped: .*disks\.delete .*kubernetes-master-aaa-pd/);
    expect(res.leftovers).toEqual([expect.objectContaining({ stepId: 'add.disk', need: 'needs-undo' })]);
    // Everything but the disk is back as it was: members first, then the VM.
    expect(end).toEqual({ ...start, disks: [...start.disks, 'kubernetes-master-aaa-pd'].sort() });
    expect(w.violations).toEqual([]);
  });

  it('a remove killed after its last step, then rolled back: done (exit 0), nothing changes (fault matrix)', async () => {
    const remove = SCENARIOS[1]!;
    const w = world(remove.replicas);
    const store = new JournalStore(join(dir, `s${seq++}`));
    const done = await executePlan(planFor(w.base, remove.request), deps(w, { store }));
    expect(summary(done)).toEqual({ outcome: 'done', exitCode: 0 });
    // The kill came after verify was journalled done, before the journal said the operation was.
    const killed = { ...done.journal!, state: 'running' as const };
    const end = shape(w);
    const calls = [w.compute.calls.length, w.etcd.main.calls.length, w.etcd.events.calls.length];
    const res = await rollbackOperation(killed, deps(w, { store }));
    expect(summary(res)).toEqual({ outcome: 'done', exitCode: 0 });
    expect(res.reasons.join('\n')).toMatch(/had completed and verified before it was interrupted/);
    expect(res.leftovers).toEqual([]);
    expect(shape(w)).toEqual(end);
    expect([w.compute.calls.length, w.etcd.main.calls.length, w.etcd.events.calls.length]).toEqual(calls);
  });

  it("a VM's undo that fails after its members were removed: exit 1, the VM and its disk left", async () => {
    const { res, start, end, w } = await run(add, (w) => {
      w.compute.fail({ method: 'addToPool', when: 'before' });
      w.compute.fail({ method: 'deleteInstance', when: 'before' });
    });
    expect(summary(res)).toEqual({ outcome: 'failed', exitCode: 1 });
    expect(res.leftovers.map((l) => `${l.stepId} ${l.need}`)).toEqual(
      expect.arrayContaining(['add.instance needs-undo', 'add.disk needs-undo']),
    );
    // The new member left both clusters before its VM was to go: the members are as at the start.
    expect(end.etcd).toEqual(start.etcd);
    expect(end.instances).toContain('kubernetes-master-aaa us-central1-f RUNNING');
    expect(w.violations).toEqual([]);
  });
});
