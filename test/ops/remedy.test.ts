// kube-ha reset | start (issue 16 item 1), the pure parts: the request, the
// checks (VM status, a healthy replica and --force, quorum depending on the
// replica), where the lock is held when etcd has lost quorum, the plan's
// shape, the confirmation, and the journal of such a plan read back.
import { describe, expect, it } from 'vitest';
import { newJournal } from '../../src/domain/ops/journal.js';
import { validateJournal } from '../../src/domain/ops/journal-parse.js';
import type { LockRecord } from '../../src/domain/ops/lock.js';
import { checkConfirmation, planOperation } from '../../src/domain/ops/operation.js';
import { lockPlaceFor } from '../../src/domain/ops/plan-remedy.js';
import {
  describeRequest,
  parseRemedyRequest,
  parseRequest,
  type RemedyRequest,
  RequestError,
} from '../../src/domain/ops/request.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { crash } from '../helpers/observations.js';
import { crashed, ctx, status, vmStopped, withObs } from './fixtures.js';

const reset = (replica: string, force = false): RemedyRequest => ({ kind: 'reset', replica, force });
const start = (replica: string): RemedyRequest => ({ kind: 'start', replica, force: false });

const stopped = vmStopped;

/** etcd main lost quorum (members 1 and 2 silent), events did not. */
function mainLost(): ClusterStatus {
  return withObs((o) => {
    o.etcd.main = crash(crash(o.etcd.main!, 1), 2);
  });
}

const name = (s: ClusterStatus, i: number) => s.replicas[i]!.name;
const failed = (p: ReturnType<typeof planOperation>) => p.checks.filter((c) => !c.ok).map((c) => c.name);

describe('reset / start requests', () => {
  it('--replica, or KUBE_REPLICA_NAME; --force only for reset', () => {
    expect(parseRemedyRequest('reset', { replica: 'kubernetes-master-x7k' })).toEqual({
      kind: 'reset',
      replica: 'kubernetes-master-x7k',
      force: false,
    });
    expect(parseRequest('start', {}, { KUBE_REPLICA_NAME: 'kubernetes-master-q2p' })).toEqual({
      kind: 'start',
      replica: 'kubernetes-master-q2p',
      force: false,
    });
    expect(parseRemedyRequest('reset', { replica: 'a', force: true }).force).toBe(true);
    expect(() => parseRemedyRequest('reset', {})).toThrow(/reset needs --replica NAME/);
    expect(() => parseRemedyRequest('start', { replica: 'Bad_Name' })).toThrow(RequestError);
    expect(() => parseRemedyRequest('start', { replica: 'a', force: true })).toThrow(
      /start takes no --force/,
    );
    expect(describeRequest(reset('kubernetes-master-x7k', true))).toBe(
      'reset kubernetes-master-x7k (forced)',
    );
  });
});

describe('reset / start checks', () => {
  it('reset of a hung replica (VM RUNNING, members silent) passes every check', () => {
    const s = crashed(3, 1);
    const p = planOperation(s, reset(name(s, 1)), ctx());
    expect(p.refusals).toEqual([]);
    expect(p.checks.map((c) => c.name)).toContain('reset-keeps-quorum');
    expect(p.confirmToken).toBe(name(s, 1));
  });

  it('reset refuses a healthy replica unless --force', () => {
    const s = status(3);
    const p = planOperation(s, reset(name(s, 0)), ctx());
    expect(failed(p)).toEqual(['reset-only-unhealthy']);
    expect(p.forceable).toBe(true);
    expect(planOperation(s, reset(name(s, 0), true), ctx()).ok).toBe(true);
  });

  it('reset never takes down a voter quorum depends on, --force or not', () => {
    const s = crashed(3, 2);
    const p = planOperation(s, reset(name(s, 0), true), ctx());
    expect(failed(p)).toEqual(['reset-keeps-quorum']);
    expect(p.refusals[0]).toMatch(/etcd main depends on kubernetes-master for quorum: .*1 of 3 .*2 needed/);
    expect(p.forceable).toBe(false);
    // Two replicas, both healthy: either one is needed.
    const two = status(2);
    expect(failed(planOperation(two, reset(name(two, 1), true), ctx()))).toEqual(['reset-keeps-quorum']);
  });

  it('VM status: reset needs RUNNING, start TERMINATED or STOPPED, each pointing to the other', () => {
    const t = stopped(3, 'TERMINATED', 1);
    const r = planOperation(t, reset(name(t, 1)), ctx());
    expect(failed(r)).toEqual(['vm-status']);
    expect(r.refusals[0]).toMatch(
      /TERMINATED: a reset needs it RUNNING; use kube-ha start --replica kubernetes-master-x7k/,
    );
    expect(planOperation(t, start(name(t, 1)), ctx()).refusals).toEqual([]);
    expect(planOperation(stopped(3, 'STOPPED', 2), start('kubernetes-master-q2p'), ctx()).ok).toBe(true);
    const hung = crashed(3, 1);
    expect(planOperation(hung, start(name(hung, 1)), ctx()).refusals[0]).toMatch(
      /RUNNING: nothing to start \(it is unhealthy: .*kube-ha reset --replica kubernetes-master-x7k\)/,
    );
    expect(planOperation(status(3), start('kubernetes-master'), ctx()).refusals[0]).toMatch(
      /RUNNING: nothing to start$/,
    );
    const settling = stopped(3, 'STOPPING', 1);
    expect(failed(planOperation(settling, start(name(settling, 1)), ctx()))).toEqual(['vm-status']);
    expect(failed(planOperation(settling, reset(name(settling, 2), true), ctx()))).toContain(
      'no-vm-settling',
    );
    expect(planOperation(status(3), reset('kubernetes-master-nope'), ctx()).refusals[0]).toMatch(
      /replica-exists: no replica named kubernetes-master-nope/,
    );
  });

  it('never two at once: the lock and an unfinished operation refuse', () => {
    const s = crashed(3, 1);
    const lock: LockRecord = {
      operationId: 'op-other',
      kind: 'reset',
      summary: 'reset kubernetes-master-q2p',
      holder: { user: 'alice', host: 'bastion', pid: 4242, tool: 'kube-ha reset' },
      since: '2024-12-31T23:58:00.000Z',
    };
    expect(failed(planOperation(s, reset(name(s, 1)), ctx({ lock })))).toEqual(['no-operation-in-flight']);
    const unfinished = { operationId: 'op-x', summary: 'replace x', state: 'failed' };
    expect(failed(planOperation(s, reset(name(s, 1)), ctx({ unfinished })))).toEqual([
      'no-unfinished-operation',
    ]);
  });

  it('without quorum: usable, no cluster-healthy check, the lock falls back and says so', () => {
    // Two of three hung: main and events have lost quorum.
    const s = crashed(3, 1, 2);
    expect(lockPlaceFor(s, 'reset')).toBe('local');
    const p = planOperation(s, reset(name(s, 1)), ctx());
    expect(p.refusals).toEqual([]);
    expect(p.checks.map((c) => c.name)).not.toContain('cluster-healthy');
    expect(p.checks.find((c) => c.name === 'reset-keeps-quorum')?.reason).toMatch(
      /already lost quorum .*cannot make it worse/,
    );
    expect(p.checks.find((c) => c.name === 'operation-lock')?.reason).toMatch(/NOT those on other machines/);
    expect(p.advisories.map((a) => a.message).join('\n')).toMatch(/lock file in the state dir/);
    // Only main lost: the lock goes to events, and events' quorum still protects its voters.
    const m = mainLost();
    expect(lockPlaceFor(m, 'reset')).toBe('events');
    expect(lockPlaceFor(m, 'add')).toBe('main');
    expect(planOperation(m, reset(name(m, 1)), ctx()).ok).toBe(true);
    expect(failed(planOperation(m, reset(name(m, 0), true), ctx()))).toEqual([]);
    expect(lockPlaceFor(status(3), 'reset')).toBe('main');
  });

  it('events quorum is protected while main has none', () => {
    // Main: 1 and 2 silent; events: 2 silent. Resetting 1 (healthy in events) leaves events 1 of 3.
    const s = withObs((o) => {
      o.etcd.main = crash(crash(o.etcd.main!, 1), 2);
      o.etcd.events = crash(o.etcd.events!, 2);
    });
    const p = planOperation(s, reset(name(s, 1)), ctx());
    expect(failed(p)).toEqual(['reset-keeps-quorum']);
    expect(p.refusals[0]).toMatch(/etcd events depends on kubernetes-master-x7k/);
  });
});

describe('reset / start plans', () => {
  it('reset of a hung replica: snapshot, reset, the same members back, apiserver, verify; nothing to undo', () => {
    const s = crashed(3, 1);
    const plan = planOperation(s, reset(name(s, 1)), ctx()).plan!;
    expect(plan.steps.map((x) => x.id)).toEqual([
      'snapshot.main',
      'reset.instance',
      'reset.member.main',
      'reset.member.events',
      'reset.apiserver',
      'verify',
    ]);
    expect(plan.steps.every((x) => x.undo === null && x.reversible)).toBe(true);
    expect(plan.steps.at(-1)?.checkpoint).toBe(true);
    const inst = plan.steps[1]!;
    expect(inst.manual).toBe(
      'gcloud compute instances reset kubernetes-master-x7k --zone us-central1-b --project kube-ha-lab',
    );
    expect(plan.steps[2]).toMatchObject({
      kind: 'etcd.wait-member-healthy',
      args: { cluster: 'main', replica: 'kubernetes-master-x7k', memberId: 'a1', until: 'healthy' },
    });
    expect(plan.replicasAfter).toEqual(plan.replicasBefore);
    expect(plan.add).toBeNull();
    expect(plan.remove).toBeNull();
    expect(plan.remedy).toMatchObject({ replica: 'kubernetes-master-x7k', lockPlace: 'main', notes: [] });
    // The quorum preview counts the replica back.
    const p = planOperation(s, reset(name(s, 1)), ctx());
    expect(p.preview?.main.before.healthyVoters).toBe(2);
    expect(p.preview?.main.after.healthyVoters).toBe(3);
  });

  it('start of a TERMINATED replica: gcloud compute instances start', () => {
    const s = stopped(3, 'TERMINATED', 2);
    const plan = planOperation(s, start(name(s, 2)), ctx()).plan!;
    expect(plan.steps.map((x) => x.kind)).toEqual([
      'etcd.snapshot',
      'instance.start',
      'etcd.wait-member-healthy',
      'etcd.wait-member-healthy',
      'apiserver.wait-healthy',
      'verify',
    ]);
    expect(plan.steps[1]!.manual).toMatch(
      /^gcloud compute instances start kubernetes-master-q2p --zone us-central1-c/,
    );
    expect(planOperation(s, start(name(s, 2)), ctx()).confirmToken).toBeNull();
  });

  it('without quorum: no snapshot, no whole-cluster check while others are sick, waits for an answer only', () => {
    // All three stopped: starting one brings back no quorum.
    const s = stopped(3, 'TERMINATED', 0, 1, 2);
    const p = planOperation(s, start(name(s, 0)), ctx());
    expect(p.ok).toBe(true);
    const plan = p.plan!;
    expect(plan.steps.map((x) => x.id)).toEqual([
      'start.instance',
      'start.member.main',
      'start.member.events',
    ]);
    expect(plan.steps[1]).toMatchObject({ args: { until: 'answers' } });
    const notes = plan.remedy!.notes.join('\n');
    expect(notes).toMatch(/no snapshot of etcd main first/);
    expect(notes).toMatch(/still lacks quorum with kubernetes-master back/);
    expect(notes).toMatch(/also unhealthy: kubernetes-master-x7k, kubernetes-master-q2p/);
    // Two of three hung: the reset brings main back, so its member is waited for until healthy.
    const two = crashed(3, 1, 2);
    const r = planOperation(two, reset(name(two, 1)), ctx()).plan!;
    expect(r.steps.map((x) => x.id)).toEqual([
      'reset.instance',
      'reset.member.main',
      'reset.member.events',
      'reset.apiserver',
    ]);
    expect(r.steps[1]).toMatchObject({ args: { until: 'healthy' } });
  });

  it('a survivor that answers without a leader counts: the reset member is waited for until healthy', () => {
    // One frozen, one stopped: the third answers but sees no leader, as etcd does without quorum.
    const s = withObs((o) => {
      o.gce!.instances[2]!.status = 'TERMINATED';
      for (const c of ['main', 'events'] as const) {
        const e = crash(crash(o.etcd[c]!, 1), 2);
        e.statuses = e.statuses.map((x) => (x.ok ? { ...x, leaderId: '0' } : x));
        o.etcd[c] = e;
      }
    });
    expect(s.replicas[0]!.etcd.main?.state).toBe('unhealthy');
    const plan = planOperation(s, reset(name(s, 1)), ctx()).plan!;
    expect(plan.remedy?.lockPlace).toBe('local');
    expect(plan.steps.map((x) => x.id)).toEqual([
      'reset.instance',
      'reset.member.main',
      'reset.member.events',
      'reset.apiserver',
    ]);
    expect(plan.steps[1]).toMatchObject({ args: { until: 'healthy' } });
  });

  it('with only a local lock: the name typed, --yes is not enough', () => {
    const s = stopped(3, 'TERMINATED', 0, 1, 2);
    const p = planOperation(s, start(name(s, 0)), ctx());
    expect(p.plan?.remedy?.lockPlace).toBe('local');
    expect(p.confirmToken).toBe('kubernetes-master');
    expect(checkConfirmation(p, { yes: true, confirm: null })).toMatchObject({ ok: false });
    expect(checkConfirmation(p, { yes: true, confirm: null }).ok || '').toBe('');
    expect(checkConfirmation(p, { yes: false, confirm: 'kubernetes-master' })).toEqual({ ok: true });
    const hung = crashed(3, 1);
    expect(
      checkConfirmation(planOperation(hung, reset(name(hung, 1)), ctx()), { yes: true, confirm: null }),
    ).toEqual({ ok: true });
  });

  it("a remedy's journal reads back", () => {
    const s = crashed(3, 1, 2);
    const plan = planOperation(s, reset(name(s, 1)), ctx()).plan!;
    const j = newJournal(plan, { user: 'u', host: 'h', pid: 1, tool: 't' });
    const back = validateJournal(JSON.parse(JSON.stringify(j)));
    expect(back.ok).toBe(true);
    const broken = JSON.parse(JSON.stringify(j));
    broken.plan.remedy.lockPlace = 'somewhere';
    expect(validateJournal(broken)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/plan.remedy.lockPlace/),
    });
  });
});
