import { describe, expect, it } from 'vitest';
import type { LockRecord } from '../../src/domain/ops/lock.js';
import {
  CHECKS,
  cloneSourceAvailable,
  clusterHealthy,
  computeReachable,
  etcdReachable,
  noLearnerPresent,
  noOperationInFlight,
  notLastMember,
  noUnfinishedOperation,
  removalKeepsQuorum,
  replaceOnlyUnhealthy,
  replicaExists,
  replicaNameFree,
  zoneInRegion,
} from '../../src/domain/ops/preflight.js';
import type { AddRequest, RemoveRequest, ReplaceRequest } from '../../src/domain/ops/request.js';
import { buildStatus } from '../../src/domain/status.js';
import { healthy } from '../helpers/observations.js';
import { crashed, ctx, status, withObs } from './fixtures.js';

const add = (zone = 'us-central1-f', name: string | null = null): AddRequest => ({ kind: 'add', zone, name });
const remove = (replica: string): RemoveRequest => ({ kind: 'remove', replica, zone: null });
const replace = (replica: string, force = false): ReplaceRequest => ({
  kind: 'replace',
  replica,
  zone: null,
  force,
});

const LOCK: LockRecord = {
  operationId: 'op-other',
  kind: 'remove',
  summary: 'remove kubernetes-master-q2p',
  holder: { user: 'alice', host: 'bastion', pid: 4242, tool: 'kube-ha remove' },
  since: '2024-12-31T23:58:00.000Z',
};

describe('preflight checks: each passes on a healthy cluster and can fail', () => {
  it('compute-reachable', () => {
    expect(computeReachable(status(), add(), ctx()).ok).toBe(true);
    const etcdOnly = withObs((o) => {
      o.gce = null;
      o.project = null;
      o.region = null;
    });
    expect(computeReachable(etcdOnly, add(), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no Compute API target/),
    });
    const down = withObs((o) => {
      o.gce = null;
      o.gceError = 'connect ECONNREFUSED';
    });
    expect(computeReachable(down, add(), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('etcd-reachable', () => {
    expect(etcdReachable(status(), add(), ctx()).ok).toBe(true);
    const noEvents = withObs((o) => {
      o.etcd.events = null;
    });
    expect(etcdReachable(noEvents, add(), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/events is not configured/),
    });
  });

  it('cluster-healthy: add needs every replica healthy; remove and replace need quorum and a leader', () => {
    const s = status();
    expect(clusterHealthy(s, add(), ctx()).ok).toBe(true);
    const oneDown = crashed(3, 1);
    expect(clusterHealthy(oneDown, add(), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unhealthy: kubernetes-master-x7k .*replace/),
    });
    expect(clusterHealthy(oneDown, remove('kubernetes-master-x7k'), ctx()).ok).toBe(true);
    const twoDown = crashed(3, 1, 2);
    expect(clusterHealthy(twoDown, replace('kubernetes-master-x7k'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/lost quorum \(1 of 3/),
    });
  });

  it('no-learner, except the learner being removed', () => {
    expect(noLearnerPresent(status(), add(), ctx()).ok).toBe(true);
    const learner = withObs((o) => {
      const m = o.etcd.main!.members![2]!;
      m.isLearner = true;
    });
    expect(noLearnerPresent(learner, add(), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/kubernetes-master-q2p \(etcd main\)/),
    });
    expect(noLearnerPresent(learner, remove('kubernetes-master-q2p'), ctx()).ok).toBe(true);
    expect(noLearnerPresent(learner, remove('kubernetes-master'), ctx()).ok).toBe(false);
  });

  it('no-operation-in-flight names the lock holder', () => {
    expect(noOperationInFlight(status(), add(), ctx()).ok).toBe(true);
    const r = noOperationInFlight(status(), add(), ctx({ lock: LOCK }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('remove kubernetes-master-q2p by alice@bastion (kube-ha remove, pid 4242)');
    expect(r.reason).toContain('2m ago');
  });

  it('no-unfinished-operation points at resume and rollback', () => {
    expect(noUnfinishedOperation(status(), add(), ctx()).ok).toBe(true);
    const r = noUnfinishedOperation(
      status(),
      add(),
      ctx({ unfinished: { operationId: 'op-1', summary: 'add x', state: 'running' } }),
    );
    expect(r).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/kube-ha operation resume.*rollback/),
    });
  });

  it('zone-in-region: another region, a zone that does not exist, an unknown zone on replace', () => {
    expect(zoneInRegion(status(), add('us-central1-f'), ctx()).ok).toBe(true);
    expect(zoneInRegion(status(), add('europe-west1-b'), ctx())).toMatchObject({
      ok: false,
      reason: "zone europe-west1-b is in region europe-west1, not the cluster's region us-central1",
    });
    expect(zoneInRegion(status(), add('us-central1-z'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not exist/),
    });
    // Without a zone list, the region rule alone decides.
    expect(zoneInRegion(status(), add('us-central1-z'), ctx({ zonesInRegion: null })).ok).toBe(true);
    const vmGone = withObs((o) => {
      o.gce!.instances = o.gce!.instances.filter((i) => i.name !== 'kubernetes-master-q2p');
    });
    expect(zoneInRegion(vmGone, replace('kubernetes-master-q2p'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/--zone/),
    });
    expect(
      zoneInRegion(vmGone, { ...replace('kubernetes-master-q2p'), zone: 'us-central1-c' }, ctx()).ok,
    ).toBe(true);
  });

  it('replica-name-free for an explicit name', () => {
    expect(replicaNameFree(status(), add('us-central1-f', 'kubernetes-master-new'), ctx()).ok).toBe(true);
    expect(replicaNameFree(status(), add('us-central1-f', 'kubernetes-master-x7k'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already exists/),
    });
    expect(replicaNameFree(status(), add('us-central1-f', 'other-vm'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/naming/),
    });
  });

  it('replica-exists: by name or zone', () => {
    expect(replicaExists(status(), remove('kubernetes-master-x7k'), ctx()).ok).toBe(true);
    expect(replicaExists(status(), remove('kubernetes-master-nope'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /no replica named kubernetes-master-nope \(replicas: kubernetes-master, /,
      ),
    });
    expect(
      replicaExists(status(), { kind: 'remove', replica: null, zone: 'us-central1-f' }, ctx()),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/no replica in zone us-central1-f/) });
  });

  it('not-last-member', () => {
    expect(notLastMember(status(2), remove('kubernetes-master'), ctx()).ok).toBe(true);
    expect(notLastMember(status(1), remove('kubernetes-master'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/last voter of etcd main/),
    });
    expect(notLastMember(status(1), replace('kubernetes-master', true), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/cannot replace/),
    });
  });

  it("removal-keeps-quorum: KubeadmControlPlane's rule", () => {
    expect(removalKeepsQuorum(status(), remove('kubernetes-master'), ctx())).toMatchObject({
      ok: true,
      reason:
        'etcd main: 2 healthy of 2 voters left, 2 needed; etcd events: 2 healthy of 2 voters left, 2 needed',
    });
    // One replica down: removing a healthy one leaves 1 healthy of 2.
    const oneDown = crashed(3, 2);
    expect(removalKeepsQuorum(oneDown, remove('kubernetes-master-x7k'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/1 healthy of 2 voters left, 2 needed/),
    });
    // Removing the broken one is what fixes it.
    expect(removalKeepsQuorum(oneDown, remove('kubernetes-master-q2p'), ctx()).ok).toBe(true);
    // 2 -> 1 with both healthy is allowed.
    expect(removalKeepsQuorum(status(2), remove('kubernetes-master-x7k'), ctx()).ok).toBe(true);
  });

  it('replace-only-unhealthy unless --force', () => {
    const oneDown = crashed(3, 2);
    expect(replaceOnlyUnhealthy(oneDown, replace('kubernetes-master-q2p'), ctx())).toMatchObject({
      ok: true,
      reason: expect.stringMatching(/unhealthy: etcd main: connection refused/),
    });
    expect(replaceOnlyUnhealthy(status(), replace('kubernetes-master-q2p'), ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/is healthy.*--force/),
    });
    expect(replaceOnlyUnhealthy(status(), replace('kubernetes-master-q2p', true), ctx()).ok).toBe(true);
  });

  it('clone-source: a healthy running replica other than the one replaced', () => {
    expect(cloneSourceAvailable(status(), add(), ctx()).ok).toBe(true);
    expect(cloneSourceAvailable(status(1), replace('kubernetes-master', true), ctx())).toMatchObject({
      ok: false,
    });
    const allDown = buildStatus({ ...healthy(1) });
    allDown.replicas[0]!.vm.status = 'TERMINATED';
    expect(cloneSourceAvailable(allDown, add(), ctx()).ok).toBe(false);
  });

  it('every check of every kind passes on a healthy cluster', () => {
    const s = status();
    for (const [kind, req] of [
      ['add', add()],
      ['remove', remove('kubernetes-master-q2p')],
      ['replace', replace('kubernetes-master-q2p', true)],
    ] as const) {
      const failed = CHECKS[kind].map((c) => c(s, req, ctx())).filter((r) => !r.ok);
      expect(failed).toEqual([]);
    }
  });
});
