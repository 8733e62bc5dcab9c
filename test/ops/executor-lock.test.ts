// The executor and a lock that is lost mid-operation (issue 11 item 3), with
// fakes for Compute, the cluster's status and the lock: nothing more changes
// once the lock is lost; a wait in progress is cut short; the rollback first
// takes the lock again, or stops with what is left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planOperation } from '../../src/domain/ops/operation.js';
import type { Plan } from '../../src/domain/ops/plan.js';
import { CancelledError } from '../../src/gce/retry.js';
import type { EtcdOps } from '../../src/ops/etcd-ops.js';
import { type ExecDeps, executePlan } from '../../src/ops/executor.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { DEFAULT_TIMING } from '../../src/ops/runners.js';
import { FakeCompute } from './fake-compute.js';
import { FakeLock } from './fake-lock.js';
import { ctx, REGION_ZONES, status } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-exec-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Compute in memory that records every change: `onCall` may lose the lock; a
 * change named in `hang` waits, as an operation wait does, until its signal aborts.
 */
function fakeCompute(calls: string[], onCall: (what: string) => void, hang: RegExp | null): FakeCompute {
  return FakeCompute.fromStatus(status(3)).onChange(async (_method, what, signal) => {
    calls.push(what);
    onCall(what);
    if (hang?.test(what) && signal)
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new CancelledError('cancelled')), { once: true }),
      );
  });
}

let n = 0;
function deps(lock: FakeLock, compute: FakeCompute): ExecDeps {
  return {
    compute,
    // No step before the loss reaches etcd: any use would throw.
    etcd: {} as Record<'main' | 'events', EtcdOps>,
    store: new JournalStore(join(dir, `s${n++}`)),
    observe: async () => status(3),
    zonesInRegion: async () => REGION_ZONES,
    holder: { user: 'test', host: 'here', pid: process.pid, tool: 'executor-lock.test' },
    timing: { ...DEFAULT_TIMING, runningTimeoutMs: 600_000, catchUpTimeoutMs: 600_000 },
    apiserverProbe: null,
    subscribeCalls: () => () => {},
    acquireLock: async () => ({ ok: true, lock }),
  };
}

function addPlan(): Plan {
  const p = planOperation(status(3), { kind: 'add', zone: 'us-central1-f', name: null }, ctx());
  if (!p.plan) throw new Error(p.refusals.join('; '));
  return p.plan;
}

describe('executor: the lock lost mid-operation', () => {
  it('changes nothing more once the lock is lost, takes it again, then rolls back (exit 4)', async () => {
    const calls: string[] = [];
    const lock = new FakeLock(true);
    const compute = fakeCompute(calls, (w) => w.startsWith('disks.insert') && lock.lose(), null);
    const res = await executePlan(addPlan(), deps(lock, compute));
    expect(res.exitCode).toBe(4);
    expect(res.reasons[0]).toMatch(/the operation lock was lost: no keepalive was answered/);
    expect(lock.reacquired).toBe(1);
    // The disk, then straight to its undo: no etcd member, no VM after the loss.
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['disks.insert', 'disks.delete']);
    expect(res.journal?.steps.find((s) => s.id === 'add.learner.main')?.status).toBe('pending');
  });

  it('stops with what is left (exit 1) when the lock cannot be taken again', async () => {
    const calls: string[] = [];
    const lock = new FakeLock(false);
    const compute = fakeCompute(calls, (w) => w.startsWith('disks.insert') && lock.lose(), null);
    const res = await executePlan(addPlan(), deps(lock, compute));
    expect(res.exitCode).toBe(1);
    expect(res.reasons.join('\n')).toMatch(
      /cannot be taken again: another operation holds the lock now: test; nothing more was changed/,
    );
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['disks.insert']);
    expect(res.leftovers).toEqual([expect.objectContaining({ stepId: 'add.disk', need: 'needs-undo' })]);
    expect(lock.released).toBe(1);
  });

  it('cuts a wait short the moment the lock is lost (the wait would take 10 minutes)', async () => {
    const calls: string[] = [];
    const lock = new FakeLock(true);
    const compute = fakeCompute(
      calls,
      (w) => {
        if (w.startsWith('disks.insert')) setTimeout(() => lock.lose(), 100);
      },
      /^disks\.insert/,
    );
    const res = await executePlan(addPlan(), deps(lock, compute));
    expect(res.exitCode).toBe(4);
    const disk = res.journal?.steps.find((s) => s.id === 'add.disk');
    // The loss, not an operator's cancel; the disk was then found absent: nothing to undo.
    expect(disk).toMatchObject({ status: 'failed', applied: false });
    expect(disk?.error).toMatch(/^the operation lock was lost: no keepalive/);
    expect(res.reasons[0]).toMatch(/Create disk .*: the operation lock was lost/);
    expect(res.cancelled).toBe(false);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['disks.insert']);
  }, 20_000);
});
