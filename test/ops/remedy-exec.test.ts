// kube-ha reset | start through the executor, against Compute and etcd in
// memory (test/ops/fake-compute.ts, fake-etcd.ts): a hung replica reset, a
// TERMINATED one started, a member that does not come back, a reset refused
// on the fresh look under the lock, and the local lock when no etcd cluster
// has quorum. Milliseconds per case.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planOperation } from '../../src/domain/ops/operation.js';
import type { Plan } from '../../src/domain/ops/plan.js';
import type { RemedyRequest } from '../../src/domain/ops/request.js';
import type { ClusterHealth, ClusterStatus, EtcdClusterName, MemberView } from '../../src/domain/types.js';
import { ETCD_CLUSTERS } from '../../src/domain/types.js';
import type { EtcdOps } from '../../src/ops/etcd-ops.js';
import type { OpEvent } from '../../src/ops/events.js';
import { type ExecDeps, executePlan } from '../../src/ops/executor.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { localLockPath } from '../../src/ops/local-lock.js';
import type { Timing } from '../../src/ops/runners.js';
import { FakeCompute } from './fake-compute.js';
import { FakeEtcd } from './fake-etcd.js';
import { FakeLock } from './fake-lock.js';
import { ctx, status } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-remedy-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAST: Timing = {
  catchUpTimeoutMs: 40,
  runningTimeoutMs: 40,
  lbReadyTimeoutMs: 40,
  verifyTimeoutMs: 40,
  pollMs: 1,
};

interface World {
  base: ClusterStatus;
  compute: FakeCompute;
  etcd: Record<EtcdClusterName, FakeEtcd>;
  /** Replicas whose members stay silent whatever happens to their VMs. */
  silent: Set<string>;
}

function world(): World {
  const base = status(3);
  const compute = FakeCompute.fromStatus(base);
  return {
    base,
    compute,
    etcd: {
      main: FakeEtcd.fromStatus('main', base, compute),
      events: FakeEtcd.fromStatus('events', base, compute),
    },
    silent: new Set(),
  };
}

/** The cluster as the observer would see it: VM statuses and members answering (with a leader or not). */
async function observe(w: World): Promise<ClusterStatus> {
  const res = w.compute.resources();
  const snaps = {
    main: await w.etcd.main.snapshot(),
    events: await w.etcd.events.snapshot(),
  };
  const replicas = w.base.replicas.map((b) => {
    const inst = res.instances.find((i) => i.name === b.name)!;
    const etcd = {} as Record<EtcdClusterName, MemberView | null>;
    for (const c of ETCD_CLUSTERS) {
      const m = w.etcd[c].memberOf(b.name);
      const answers = Boolean(m && snaps[c].statuses.has(m.id)) && !w.silent.has(b.name);
      const leader = snaps[c].leader;
      etcd[c] = m
        ? {
            ...b.etcd[c]!,
            memberId: m.id,
            healthy: answers && leader !== null,
            leader: answers && leader === m.id,
            state: !answers ? 'unreachable' : leader ? 'healthy' : 'unhealthy',
            error: !answers ? 'connection refused' : leader ? null : 'no leader',
          }
        : null;
    }
    return { ...b, vm: { ...b.vm, status: inst.status as 'RUNNING' }, etcd };
  });
  const health = (c: EtcdClusterName): ClusterHealth => {
    const voters = replicas.filter((r) => r.etcd[c] && !r.etcd[c]!.learner);
    const healthy = voters.filter((r) => r.etcd[c]!.healthy).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    return {
      ...w.base.etcd[c],
      healthyVoters: healthy,
      healthyMembers: healthy,
      quorum,
      faultTolerance: healthy >= quorum ? healthy - quorum : -1,
      leaderId: healthy >= quorum ? snaps[c].leader : null,
    };
  };
  return { ...w.base, replicas, etcd: { main: health('main'), events: health('events') } };
}

let seq = 0;
function deps(w: World, over: Partial<ExecDeps> = {}): ExecDeps {
  const lock = new FakeLock();
  return {
    compute: w.compute,
    etcd: w.etcd as unknown as Record<EtcdClusterName, EtcdOps>,
    store: new JournalStore(join(dir, `s${seq++}`)),
    observe: () => observe(w),
    zonesInRegion: async () => null,
    holder: { user: 'test', host: 'here', pid: process.pid, tool: 'remedy-exec.test' },
    timing: FAST,
    apiserverProbe: null,
    subscribeCalls: () => () => {},
    acquireLock: async () => ({ ok: true, lock }),
    ...over,
  };
}

async function planFor(w: World, request: RemedyRequest): Promise<Plan> {
  const p = planOperation(await observe(w), request, ctx());
  if (!p.ok || !p.plan) throw new Error(p.refusals.join('; '));
  return p.plan;
}

const X7K = 'kubernetes-master-x7k';

describe('reset / start through the executor', () => {
  it('a hung replica is reset: the same members answer again, every disk kept', async () => {
    const w = world();
    w.compute.instance(X7K)!.hung = true;
    const before = w.compute.resources();
    const ids = ETCD_CLUSTERS.map((c) => w.etcd[c].memberOf(X7K)!.id);
    const plan = await planFor(w, { kind: 'reset', replica: X7K, force: false });
    const events: OpEvent[] = [];
    const res = await executePlan(plan, deps(w), { onEvent: (e) => events.push(e) });
    expect(res.reasons).toEqual([]);
    expect(res.outcome).toBe('done');
    expect(res.exitCode).toBe(0);
    expect(w.compute.calls).toEqual([`instances.reset zone=us-central1-b name=${X7K}`]);
    expect(ETCD_CLUSTERS.map((c) => w.etcd[c].memberOf(X7K)!.id)).toEqual(ids);
    expect(w.compute.resources().disks).toEqual(before.disks);
    expect(res.journal?.steps.map((s) => s.status)).toEqual([
      'skipped',
      'done',
      'done',
      'done',
      'skipped',
      'done',
    ]);
    expect(
      events.some((e) => e.type === 'progress' && /kubernetes-master-x7k etcd main/.test(e.message)),
    ).toBe(true);
  });

  it('a TERMINATED replica is started', async () => {
    const w = world();
    w.compute.instance(X7K)!.status = 'TERMINATED';
    const plan = await planFor(w, { kind: 'start', replica: X7K, force: false });
    const res = await executePlan(plan, deps(w));
    expect(res.outcome).toBe('done');
    expect(w.compute.calls).toEqual([`instances.start zone=us-central1-b name=${X7K}`]);
    expect(w.compute.instance(X7K)!.status).toBe('RUNNING');
  });

  it('a member that does not come back fails the wait with what was seen; nothing else changed', async () => {
    const w = world();
    w.compute.instance(X7K)!.hung = true;
    w.silent.add(X7K);
    const plan = await planFor(w, { kind: 'reset', replica: X7K, force: false });
    const res = await executePlan(plan, deps(w));
    expect(res.outcome).toBe('rolled-back');
    expect(res.exitCode).toBe(4);
    expect(res.reasons[0]).toMatch(
      /Wait for kubernetes-master-x7k's etcd main member to be healthy: .*not done in 0 s \(member a1 is unreachable \(connection refused\)\)/,
    );
    // Finished (not left open): the next rung, a replace, is not held back by it.
    expect(res.journal?.state).toBe('rolled-back');
    expect(w.compute.calls).toEqual([`instances.reset zone=us-central1-b name=${X7K}`]);
  });

  it('a forced reset is refused under the lock when quorum came to depend on the replica', async () => {
    const w = world();
    const plan = await planFor(w, { kind: 'reset', replica: X7K, force: true });
    // After the plan, another replica hangs: resetting x7k now would leave 1 of 3.
    w.compute.instance('kubernetes-master-q2p')!.hung = true;
    const res = await executePlan(plan, deps(w));
    expect(res.outcome).toBe('refused');
    expect(res.exitCode).toBe(3);
    expect(res.reasons.join(' ')).toMatch(/reset-keeps-quorum: etcd main depends on kubernetes-master-x7k/);
    expect(w.compute.calls).toEqual([]);
  });

  it('no etcd cluster has quorum: the local lock, held while it runs, said in the result', async () => {
    const w = world();
    for (const r of w.base.replicas) w.compute.instance(r.name)!.status = 'TERMINATED';
    const plan = await planFor(w, { kind: 'start', replica: 'kubernetes-master', force: false });
    expect(plan.remedy?.lockPlace).toBe('local');
    const d = deps(w, { acquireLock: undefined });
    const seen: boolean[] = [];
    w.compute.onChange(() => {
      seen.push(existsSync(localLockPath(d.store.dir)));
    });
    const res = await executePlan(plan, d);
    expect(res.outcome).toBe('done');
    expect(seen).toEqual([true]);
    expect(existsSync(localLockPath(d.store.dir))).toBe(false);
    expect(res.reasons.join('\n')).toMatch(/a lock file in the state dir .*NOT those on other machines/);
    // A second process finds it held.
    const { acquireLocalLock } = await import('../../src/ops/local-lock.js');
    const first = acquireLocalLock(d.store.dir, LOCK_RECORD, () => {});
    const second = acquireLocalLock(
      d.store.dir,
      { ...LOCK_RECORD, holder: { ...LOCK_RECORD.holder, pid: 1 } },
      () => {},
    );
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, holder: { operationId: 'op-a' } });
    if (first.ok) await first.lock.release();
    expect(existsSync(localLockPath(d.store.dir))).toBe(false);
  });
});

const LOCK_RECORD = {
  operationId: 'op-a',
  kind: 'start' as const,
  summary: 'start kubernetes-master',
  holder: { user: 'test', host: 'here', pid: process.pid, tool: 'test' },
  since: '2025-01-01T00:00:00Z',
};
