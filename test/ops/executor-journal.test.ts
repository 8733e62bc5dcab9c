// The executor's journal handling, with fakes for Compute and the cluster's
// status and a real one-member etcd for the lock: a failed journal write stops
// the operation at once (nothing more changes, exit 1, what was done and what
// is left); an unreadable journal refuses a new operation; resume and rollback
// check the live cluster against the journal before anything runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/domain/ops/journal.js';
import { planOperation } from '../../src/domain/ops/operation.js';
import type { Plan } from '../../src/domain/ops/plan.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { EtcdOps } from '../../src/ops/etcd-ops.js';
import { type ExecDeps, executePlan, resumeOperation, rollbackOperation } from '../../src/ops/executor.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { DEFAULT_TIMING } from '../../src/ops/runners.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { FakeCompute } from './fake-compute.js';
import { ctx, REGION_ZONES, status } from './fixtures.js';
import { journalFor, runTo } from './journal-fixtures.js';

let cluster: TestCluster;
let dir: string;
let etcd: Record<'main' | 'events', EtcdOps>;

beforeAll(async () => {
  cluster = await startTestCluster(1);
  etcd = {
    main: new EtcdOps('main', { endpoints: cluster.endpoints, tls: null }, 2000, () => {}),
    events: new EtcdOps('events', { endpoints: cluster.endpoints, tls: null }, 2000, () => {}),
  };
  dir = mkdtempSync(join(tmpdir(), 'kube-ha-exec-'));
}, 30_000);

afterAll(async () => {
  for (const e of Object.values(etcd ?? {})) e.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A store whose writes fail from the `failFrom`-th on (1-based), as a full disk would. */
class FailingStore extends JournalStore {
  writes = 0;
  constructor(
    d: string,
    private readonly failFrom: number,
  ) {
    super(d);
  }
  override write(j: Journal): void {
    this.writes++;
    if (this.writes >= this.failFrom) throw new Error('ENOSPC: no space left on device, write');
    super.write(j);
  }
}

/** Compute in memory that records every change. */
function fakeCompute(calls: string[]): FakeCompute {
  return FakeCompute.fromStatus(status(3)).onChange((_method, what) => {
    calls.push(what);
  });
}

let n = 0;
function deps(store: JournalStore, observed: ClusterStatus, calls: string[]): ExecDeps {
  return {
    compute: fakeCompute(calls),
    etcd,
    store,
    observe: async () => observed,
    zonesInRegion: async () => REGION_ZONES,
    holder: { user: 'test', host: 'here', pid: process.pid, tool: 'executor-journal.test' },
    timing: DEFAULT_TIMING,
    apiserverProbe: async () => {
      throw new Error('not in this test');
    },
    subscribeCalls: () => () => {},
  };
}

function addPlan(id: string): Plan {
  const p = planOperation(
    status(3),
    { kind: 'add', zone: 'us-central1-f', name: null },
    ctx({ operationId: id }),
  );
  if (!p.plan) throw new Error(p.refusals.join('; '));
  return p.plan;
}

const freshDir = () => join(dir, `s${n++}`);

describe('executor: journal writes', () => {
  it('a write failing after the first step stops at once: nothing more changes, exit 1, what was done and what is left', async () => {
    const calls: string[] = [];
    // 1: the journal, 2-3: the snapshot running, skipped (no snapshot dir), 4: disk running,
    // 5: disk done (fails). (The in-memory Compute keeps no request IDs.)
    const store = new FailingStore(freshDir(), 5);
    const res = await executePlan(addPlan('op-w1'), deps(store, status(3), calls));
    expect(res.outcome).toBe('failed');
    expect(res.exitCode).toBe(1);
    // The disk was made; nothing after it ran, and no rollback was tried.
    expect(calls).toEqual([
      expect.stringMatching(/^disks\.insert zone=us-central1-f name=kubernetes-master-\w+-pd/),
    ]);
    expect(store.writes).toBe(5);
    expect(res.reasons[0]).toMatch(
      /^stopped: cannot write the journal .*op-w1\.json: ENOSPC: no space left on device, write; nothing more was changed/,
    );
    expect(res.reasons).toContainEqual(expect.stringMatching(/^done: Create disk kubernetes-master-\w+-pd/));
    expect(res.leftovers).toEqual([
      expect.objectContaining({
        stepId: 'add.disk',
        need: 'needs-undo',
        what: expect.stringMatching(/^delete disk/),
      }),
    ]);
    expect(res.journal?.steps.find((s) => s.id === 'add.learner.main')?.status).toBe('pending');
    // etcd was not touched: still one member.
    expect((await etcd.main.snapshot(true)).members).toHaveLength(1);
  });

  it('the first write failing refuses (exit 3): nothing was changed', async () => {
    const calls: string[] = [];
    const res = await executePlan(addPlan('op-w0'), deps(new FailingStore(freshDir(), 1), status(3), calls));
    expect(res.outcome).toBe('refused');
    expect(res.exitCode).toBe(3);
    expect(res.reasons[0]).toMatch(/^cannot write the journal .*op-w0\.json: ENOSPC.*: nothing was changed$/);
    expect(calls).toEqual([]);
  });

  it('an unreadable journal refuses a new operation under the lock (exit 3)', async () => {
    const store = new JournalStore(freshDir());
    store.write(journalFor(undefined, undefined, 'op-old'));
    writeFileSync(store.path('op-old'), '{"format":1,"operationId":"op-old"');
    const calls: string[] = [];
    const res = await executePlan(addPlan('op-new'), deps(store, status(3), calls));
    expect(res.exitCode).toBe(3);
    expect(res.reasons).toContainEqual(
      expect.stringMatching(/^journals-readable: journal .*op-old\.json cannot be read: not JSON/),
    );
    expect(calls).toEqual([]);
  });
});

describe('executor: resume and rollback check the live cluster first', () => {
  it('refuses (exit 3) and writes nothing when the replicas no longer match the journal', async () => {
    for (const run of [resumeOperation, rollbackOperation]) {
      const store = new FailingStore(freshDir(), 99);
      const j = runTo(journalFor(), 'add.instance', 'running');
      const calls: string[] = [];
      // Someone removed a replica the plan started from.
      const res = await run(j, deps(store, status(2), calls));
      expect(res.exitCode).toBe(3);
      expect(res.reasons).toEqual([
        expect.stringMatching(/^replicas-match-journal: .*kubernetes-master-q2p gone/),
      ]);
      expect(store.writes).toBe(0);
      expect(calls).toEqual([]);
    }
  });

  it('a write failing at the start of a rollback refuses it (exit 3): nothing was changed', async () => {
    const store = new FailingStore(freshDir(), 1);
    const j = runTo(journalFor(undefined, undefined, 'op-rb'), 'add.disk');
    const calls: string[] = [];
    const res = await rollbackOperation(j, deps(store, status(3), calls));
    expect(res.exitCode).toBe(3);
    expect(res.reasons[0]).toMatch(/^cannot write the journal .*op-rb\.json: ENOSPC/);
    expect(calls).toEqual([]);
  });
});
