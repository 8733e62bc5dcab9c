// The fresh preflight of `operation resume | rollback`: the live cluster must
// still be one the journal explains, no other operation may hold the lock, and
// the etcd clusters the remaining steps change must have quorum.
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/domain/ops/journal.js';
import type { LockRecord } from '../../src/domain/ops/lock.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import {
  checkRecoveryConfirmation,
  doneStepsHold,
  lockFree,
  quorumForSteps,
  recoveryChecks,
  refusalsOf,
  replicasMatch,
} from '../../src/domain/ops/resume-check.js';
import { crashed, status, withObs } from './fixtures.js';
import { journalFor, runTo } from './journal-fixtures.js';

/** 2 → 3, adding kubernetes-master-q2p (the third replica of the shared fixtures). */
const ADD_Q2P: OpRequest = { kind: 'add', zone: 'us-central1-c', name: 'kubernetes-master-q2p' };
const addJournal = (to: string): Journal => runTo(journalFor(ADD_Q2P, status(2)), to);
const REMOVE_Q2P: OpRequest = { kind: 'remove', replica: 'kubernetes-master-q2p', zone: null };

/** Three replicas, q2p's members gone from etcd (its VM still there): a remove past its point of no return. */
const q2pLeftEtcd = () =>
  withObs((o) => {
    for (const c of ['main', 'events'] as const) {
      const e = o.etcd[c]!;
      e.members = e.members!.slice(0, 2);
      e.statuses = e.statuses.slice(0, 2);
    }
  });

describe('resume / rollback against the live cluster', () => {
  it("passes when the replicas are the plan's before, or before plus the new one", () => {
    const j = addJournal('add.learner.events');
    expect(replicasMatch(j, status(2)).ok).toBe(true);
    expect(replicasMatch(addJournal('add.instance'), status(3)).ok).toBe(true);
    expect(
      refusalsOf(recoveryChecks(addJournal('add.instance'), status(3), 'resume', { lock: null })),
    ).toEqual([]);
  });

  it('refuses when a replica appeared that the plan does not know, or one it started from is gone', () => {
    const extra = replicasMatch(addJournal('add.instance'), status(4));
    expect(extra.ok).toBe(false);
    expect(extra.reason).toMatch(
      /^the cluster no longer matches operation op-test: kubernetes-master-r3 not in the plan \(it started from kubernetes-master, kubernetes-master-x7k, adding kubernetes-master-q2p\)/,
    );
    const gone = replicasMatch(journalFor(), status(2));
    expect(gone.ok).toBe(false);
    expect(gone.reason).toMatch(/kubernetes-master-q2p gone/);
    expect(refusalsOf(recoveryChecks(journalFor(), status(2), 'rollback', { lock: null }))).toEqual([
      expect.stringMatching(/^replicas-match-journal: /),
    ]);
  });

  it('resume refuses when a VM the journal created is gone', () => {
    const res = doneStepsHold(addJournal('add.instance'), status(2));
    expect(res.ok).toBe(false);
    expect(res.reason).toMatch(/VM kubernetes-master-q2p was created, and Compute has no such VM/);
  });

  it('resume refuses to go past a member removal that did not hold: it would delete the VM of a member', () => {
    const j = runTo(journalFor(REMOVE_Q2P, status(3)), 'remove.member.events');
    const back = doneStepsHold(j, status(3));
    expect(back.ok).toBe(false);
    expect(back.reason).toMatch(
      /kubernetes-master-q2p left etcd main \(member a2\), and is a member again: resuming would delete the VM of a member/,
    );
    expect(doneStepsHold(j, q2pLeftEtcd()).ok).toBe(true);
    expect(refusalsOf(recoveryChecks(j, q2pLeftEtcd(), 'resume', { lock: null }))).toEqual([]);
    // A rollback runs no step on the strength of "done" here: not checked.
    expect(recoveryChecks(j, status(3), 'rollback', { lock: null }).map((c) => c.name)).not.toContain(
      'done-steps-hold',
    );
  });

  it('refuses when an etcd cluster a remaining step changes has lost quorum', () => {
    const lost = crashed(3, 1, 2);
    const res = quorumForSteps(addJournal('add.instance'), lost, 'resume');
    expect(res.ok).toBe(false);
    expect(res.reason).toMatch(
      /^etcd main has lost quorum \(1 of 3 voters healthy, 2 needed\), and "Wait for kubernetes-master-q2p/,
    );
    // Only the load balancer and the check are left: no quorum needed for them.
    expect(quorumForSteps(addJournal('add.promote.events'), lost, 'resume')).toMatchObject({
      ok: true,
      reason: 'no etcd change left to run',
    });
    // Rolling back the same add removes the members: that needs quorum too.
    expect(quorumForSteps(addJournal('add.instance'), lost, 'rollback').ok).toBe(false);
  });

  it('refuses while another operation holds the lock; its own earlier lock is not another', () => {
    const lock = (operationId: string): LockRecord => ({
      operationId,
      kind: 'remove',
      summary: 'remove kubernetes-master-x7k',
      holder: { user: 'alice', host: 'bastion', pid: 4242, tool: 'kube-ha remove' },
      since: '2025-01-01T00:00:00.000Z',
    });
    const j = addJournal('add.instance');
    const other = lockFree(j, { lock: lock('op-other'), now: new Date('2025-01-01T00:01:00Z') });
    expect(other.ok).toBe(false);
    expect(other.reason).toMatch(
      /^another operation holds the lock: remove kubernetes-master-x7k by alice@bastion/,
    );
    expect(lockFree(j, { lock: lock('op-test') }).ok).toBe(true);
  });

  it('confirmation: the operation id typed or --confirm ID, or --yes', () => {
    expect(checkRecoveryConfirmation('op-1', { yes: true, confirm: null })).toEqual({ ok: true });
    expect(checkRecoveryConfirmation('op-1', { yes: false, confirm: 'op-1' })).toEqual({ ok: true });
    expect(
      checkRecoveryConfirmation('op-1', { yes: false, confirm: null, interactiveAnswer: ' op-1\n' }),
    ).toEqual({
      ok: true,
    });
    expect(checkRecoveryConfirmation('op-1', { yes: false, confirm: null })).toEqual({
      ok: false,
      reason: 'type op-1 to confirm (scripts: --confirm op-1 or --yes)',
    });
    expect(checkRecoveryConfirmation('op-1', { yes: false, confirm: null, interactiveAnswer: 'y' })).toEqual({
      ok: false,
      reason: "'y' is not op-1: not confirmed",
    });
  });
});
