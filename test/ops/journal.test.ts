import { describe, expect, it } from 'vitest';
import {
  type Journal,
  leftovers,
  newJournal,
  resumeRecovery,
  rollbackRecovery,
  type StepStatus,
  updateStep,
} from '../../src/domain/ops/journal.js';
import { buildPlan } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import { crashed, ctx, hostnameStyle } from './fixtures.js';

const HOLDER = { user: 'bob', host: 'laptop', pid: 1, tool: 'kube-ha add' };

function journalFor(r: OpRequest, s = hostnameStyle(3)): Journal {
  const b = buildPlan(s, r, ctx());
  if (!b.ok) throw new Error(b.reason);
  return newJournal(b.plan, HOLDER, new Date(0));
}

/** Marks the steps up to and including `id` done, `id` itself with `last`. */
function runTo(j: Journal, id: string, last: StepStatus, extra: { applied?: boolean } = {}): Journal {
  let out = j;
  for (const s of j.plan.steps) {
    if (s.id === id) return updateStep(out, s.id, { status: last, ...extra });
    out = updateStep(out, s.id, { status: 'done' });
  }
  throw new Error(`no step ${id}`);
}

const ADD: OpRequest = { kind: 'add', zone: 'us-central1-f', name: null };
const REMOVE: OpRequest = { kind: 'remove', replica: 'kubernetes-master', zone: null };

describe('journal: resume and rollback decisions', () => {
  it('an add killed while creating the VM: rollback removes the members, then the VM, then the disk', () => {
    const j = runTo(journalFor(ADD), 'add.instance', 'running');
    expect(rollbackRecovery(j)).toEqual({
      forward: [],
      undo: ['add.learner.events', 'add.learner.main', 'add.instance', 'add.disk', 'snapshot.main'],
      note: 'undo every step taken, newest first',
      pastPointOfNoReturn: false,
    });
    expect(resumeRecovery(j).forward[0]).toBe('add.instance');
  });

  it('a failed step that verifiably changed nothing is not undone', () => {
    const j = runTo(journalFor(ADD), 'add.instance', 'failed', { applied: false });
    expect(rollbackRecovery(j).undo).toEqual([
      'add.learner.events',
      'add.learner.main',
      'add.disk',
      'snapshot.main',
    ]);
    // Without that proof a failure counts as possibly applied.
    const k = runTo(journalFor(ADD), 'add.instance', 'failed');
    expect(rollbackRecovery(k).undo).toEqual([
      'add.learner.events',
      'add.learner.main',
      'add.instance',
      'add.disk',
      'snapshot.main',
    ]);
  });

  it('1 → 2 failing after the promotion: the voters go before their VM, then the load balancer (issue 11)', () => {
    const j = runTo(journalFor(ADD, hostnameStyle(1)), 'add.pool', 'failed');
    const undo = rollbackRecovery(j).undo;
    // Newest first would delete the VM of a voting member: quorum lost in a 2-member cluster.
    expect(undo.indexOf('add.learner.main')).toBeLessThan(undo.indexOf('add.instance'));
    expect(undo.indexOf('add.learner.events')).toBeLessThan(undo.indexOf('add.instance'));
    expect(undo.slice(0, undo.indexOf('add.instance') + 1)).toEqual([
      'add.pool',
      'add.apiserver',
      'add.promote.events',
      'add.promote.main',
      'add.catch-up.events',
      'add.catch-up.main',
      'add.learner.events',
      'add.learner.main',
      'add.instance',
    ]);
    expect(undo.slice(undo.indexOf('add.instance') + 1)).toEqual([
      'add.disk',
      'lb.wait-ready',
      'lb.forwarding-rule',
      'lb.detach-ip',
      'lb.target-pool',
      'snapshot.main',
    ]);
  });

  it('a remove before its point of no return rolls back (the pool entry comes back)', () => {
    const j = runTo(journalFor(REMOVE), 'remove.pool', 'done');
    expect(rollbackRecovery(j)).toMatchObject({
      forward: [],
      undo: ['remove.pool', 'remove.move-leader.events', 'remove.move-leader.main', 'snapshot.main'],
    });
  });

  it('a remove past its point of no return finishes forward instead', () => {
    const j = runTo(journalFor(REMOVE), 'remove.member.main', 'done');
    const r = rollbackRecovery(j);
    // Up to the VM's deletion: the old member's disk is deleted only after verify, so it stays.
    expect(r.forward).toEqual(['remove.member.events', 'remove.instance']);
    expect(r.undo).toEqual([]);
    expect(r.pastPointOfNoReturn).toBe(true);
    expect(r.note).toMatch(/point of no return \(Remove kubernetes-master from etcd main\)/);
  });

  it('a replace whose add failed rolls back to the removal, not past it', () => {
    const s = crashed(3, 2);
    const j = runTo(
      journalFor({ kind: 'replace', replica: 'kubernetes-master-q2p', zone: null, force: false }, s),
      'add.catch-up.main',
      'failed',
    );
    const r = rollbackRecovery(j);
    expect(r.forward).toEqual([]);
    expect(r.undo).toEqual([
      'add.catch-up.main',
      'add.learner.events',
      'add.learner.main',
      'add.instance',
      'add.disk',
    ]);
    expect(r.note).toMatch(/finish up to "Delete VM kubernetes-master-q2p"/);
  });

  it('a replace killed mid-removal finishes the removal on rollback', () => {
    const s = crashed(3, 2);
    const j = runTo(
      journalFor({ kind: 'replace', replica: 'kubernetes-master-q2p', zone: null, force: false }, s),
      'remove.member.events',
      'running',
    );
    expect(rollbackRecovery(j)).toMatchObject({
      forward: ['remove.member.events', 'remove.instance'],
      undo: [],
    });
  });

  it('after a partial rollback, resume runs the undone steps again', () => {
    let j = runTo(journalFor(ADD), 'add.catch-up.main', 'failed');
    for (const id of ['add.catch-up.main', 'add.instance', 'add.learner.events']) {
      j = updateStep(j, id, { status: 'undone' });
    }
    expect(resumeRecovery(j).forward.slice(0, 3)).toEqual([
      'add.learner.events',
      'add.instance',
      'add.catch-up.main',
    ]);
    // And a second rollback picks up where the first stopped.
    expect(rollbackRecovery(j).undo).toEqual(['add.learner.main', 'add.disk', 'snapshot.main']);
  });

  it('leftovers say what to undo and how, by hand', () => {
    let j = runTo(journalFor(ADD), 'add.instance', 'done');
    j = updateStep(j, 'add.learner.main', { status: 'undo-failed' });
    const l = leftovers(j);
    // In the order to run them: the members out of etcd before their VM goes.
    expect(l.map((x) => [x.stepId, x.need])).toEqual([
      ['add.learner.events', 'needs-undo'],
      ['add.learner.main', 'needs-undo'],
      ['add.instance', 'needs-undo'],
      ['add.disk', 'needs-undo'],
    ]);
    expect(l[2]?.manual).toBe(
      'gcloud compute instances delete kubernetes-master-aaa --zone us-central1-f --quiet --project kube-ha-lab',
    );
    const past = leftovers(runTo(journalFor(REMOVE), 'remove.member.events', 'done'));
    expect(past.map((x) => [x.stepId, x.need])).toEqual([['remove.instance', 'needs-forward']]);
  });

  it('a journal that does not match its plan is rejected', () => {
    const j = journalFor(ADD);
    const broken: Journal = { ...j, steps: j.steps.slice(1) };
    expect(() => rollbackRecovery(broken)).toThrow(/does not match/);
    expect(() => updateStep(j, 'nope', { status: 'done' })).toThrow(/no step nope/);
  });
});
