import { describe, expect, it } from 'vitest';
import type { ClusterStatus, MemberView } from '../../src/domain/types.js';
import { diffStatus } from '../../src/store/timeline.js';
import { degraded, healthy3, learnerPresent, NAMES, noLeader, status, T0 } from './fixtures.js';

const messages = (prev: ClusterStatus | null, next: ClusterStatus) =>
  diffStatus(prev, next, T0).map((e) => e.message);

describe('diffStatus', () => {
  it('starts a session with one summary line and the warnings already present', () => {
    const events = diffStatus(null, degraded(), T0);
    expect(events[0]).toMatchObject({ kind: 'observed', at: T0 });
    expect(events[0]?.message).toContain('first observation: 3 replicas in 3 zones');
    expect(events[0]?.message).toContain(
      `main 2/3 healthy, quorum 2, tolerates no failure, leader ${NAMES.b}`,
    );
    expect(events.slice(1).map((e) => e.code)).toEqual([
      'LOAD_BALANCER_MISMATCH',
      'UNHEALTHY_MEMBER',
      'UNHEALTHY_MEMBER',
    ]);
  });

  it('says nothing when nothing changed', () => {
    expect(diffStatus(healthy3(), healthy3(), T0)).toEqual([]);
  });

  it('reports a crashed leader: new leader with its term, health transitions, new warnings', () => {
    const events = diffStatus(healthy3(), degraded(), T0);
    const leader = events.filter((e) => e.kind === 'leader');
    expect(leader).toEqual([
      expect.objectContaining({
        cluster: 'main',
        replica: NAMES.b,
        severity: 'warning',
        message: `main: leader changed: ${NAMES.a} -> ${NAMES.b} (term 5)`,
      }),
    ]);
    const health = events.filter((e) => e.kind === 'health');
    expect(health.map((e) => [e.cluster, e.replica, e.severity])).toEqual([
      ['main', NAMES.a, 'error'],
      ['events', NAMES.a, 'error'],
    ]);
    expect(health[0]?.message).toMatch(/healthy -> unreachable \(connection refused\)$/);
    const warnings = events.filter((e) => e.kind === 'warning');
    expect(warnings.map((e) => e.message)).toEqual([
      'warning: kubernetes-master-x7k is healthy but not in the target pool',
      expect.stringMatching(/^error: kubernetes-master: etcd main member .* unhealthy/),
      expect.stringMatching(/^error: kubernetes-master: etcd events member .* unhealthy/),
    ]);
  });

  it('reports recovery: healthy again and warnings cleared', () => {
    const out = messages(degraded(), healthy3());
    expect(out).toEqual(
      expect.arrayContaining([
        `main: leader changed: ${NAMES.b} -> ${NAMES.a} (term 4)`,
        expect.stringMatching(
          /^main: etcd-kubernetes-master .* on kubernetes-master unreachable -> healthy$/,
        ),
        'cleared: kubernetes-master-x7k is healthy but not in the target pool',
      ]),
    );
  });

  it('reports a lost leader as an error', () => {
    const lost = diffStatus(healthy3(), noLeader(), T0).find((e) => e.kind === 'leader');
    expect(lost).toMatchObject({ severity: 'error', message: `main: no leader (was ${NAMES.a})` });
    const back = diffStatus(noLeader(), healthy3(), T0).find((e) => e.kind === 'leader');
    expect(back).toMatchObject({ severity: 'info', message: `main: leader elected: ${NAMES.a} (term 4)` });
  });

  it('reports VM status and pool changes, replicas appearing and going', () => {
    const base = healthy3();
    const stopped = status(
      base.replicas.map((r) =>
        r.name === NAMES.c
          ? { ...r, vm: { ...r.vm, status: 'TERMINATED' as const }, inTargetPool: false }
          : r,
      ),
    );
    expect(diffStatus(base, stopped, T0).filter((e) => e.kind === 'vm')).toEqual([
      expect.objectContaining({
        severity: 'error',
        replica: NAMES.c,
        message: `${NAMES.c}: VM RUNNING -> TERMINATED`,
      }),
      expect.objectContaining({ message: `${NAMES.c} left the load balancer's target pool` }),
    ]);
    const fewer = status(base.replicas.slice(0, 2));
    expect(messages(base, fewer)).toEqual(expect.arrayContaining([`replica ${NAMES.c} is gone`]));
    expect(messages(fewer, base)).toEqual(
      expect.arrayContaining([`replica ${NAMES.c} appeared in us-central1-c (VM RUNNING)`]),
    );
  });

  it('reports a learner added, then promoted', () => {
    const withLearner = learnerPresent();
    const added = messages(healthy3(), withLearner);
    expect(added).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^main: member etcd-kubernetes-master-n3w [0-9a-f]+ on kubernetes-master-n3w added as learner$/,
        ),
      ]),
    );
    const promoted = status(
      withLearner.replicas.map((r) => ({
        ...r,
        etcd: {
          main: r.etcd.main && ({ ...r.etcd.main, learner: false } as MemberView),
          events: r.etcd.events && ({ ...r.etcd.events, learner: false } as MemberView),
        },
      })),
    );
    expect(messages(withLearner, promoted)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^main: .* promoted to voter$/),
        expect.stringMatching(/^events: .* promoted to voter$/),
      ]),
    );
  });

  it('reports where the apiserver IP moved', () => {
    const base = healthy3();
    const moved = { ...base, apiserverIP: { address: '35.192.0.10', attachedTo: NAMES.a } };
    expect(messages(base, moved)).toEqual([`apiserver IP 35.192.0.10 now attached to ${NAMES.a}`]);
  });
});

describe('diffStatus when a source answers for the first time', () => {
  it('summarises a cluster once instead of listing every member as added', () => {
    const full = healthy3();
    const gceOnly: ClusterStatus = {
      ...full,
      replicas: full.replicas.map((r) => ({ ...r, etcd: { main: null, events: r.etcd.events } })),
      etcd: { ...full.etcd, main: { ...full.etcd.main, observed: false, members: 0, leaderId: null } },
    };
    const events = diffStatus(gceOnly, full, T0);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'observed',
        cluster: 'main',
        message: `main first answered: 3/3 healthy, quorum 2, tolerates 1 failure, leader ${NAMES.a}`,
      }),
    ]);
  });

  it('summarises the first Compute answer instead of listing VM arrivals', () => {
    const full = healthy3();
    const etcdOnly: ClusterStatus = {
      ...full,
      replicas: full.replicas.map((r) => ({
        ...r,
        zone: null,
        vm: { status: 'UNKNOWN', internalIP: null, externalIP: null },
      })),
      sources: { gce: false, etcd: true },
    };
    expect(messages({ ...etcdOnly, apiserverIP: null }, full)).toEqual([
      'Compute API first answered: 3 replica VMs; apiserver 35.192.0.10 on load balancer kubernetes-master (3 replicas in pool)',
    ]);
  });
});
