import { describe, expect, it } from 'vitest';
import { buildStatus, type Observations } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { ETCD_CLUSTERS } from '../../src/domain/types.js';
import { diffStatus } from '../../src/store/timeline.js';
import {
  crash,
  degraded,
  dropMembers,
  dropVm,
  healthy3,
  learnerPresent,
  learnerPresentObservations,
  leavePool,
  NAMES,
  noLeader,
  observations,
  T0,
} from './fixtures.js';

const messages = (prev: ClusterStatus | null, next: ClusterStatus) =>
  diffStatus(prev, next, T0).map((e) => e.message);

/** The healthy 3-zone observations, changed by `change`, through buildStatus. */
function observed(change: (o: Observations) => void, obs = observations()): ClusterStatus {
  change(obs);
  return buildStatus(obs);
}

describe('diffStatus', () => {
  it('starts a session with one summary line and the warnings already present', () => {
    const events = diffStatus(null, degraded(), T0);
    expect(events[0]).toMatchObject({ kind: 'observed', at: T0 });
    expect(events[0]?.message).toContain('first observation: 3 replicas in 3 zones');
    expect(events[0]?.message).toContain(
      `main 2/3 healthy, quorum 2, tolerates no failure, leader ${NAMES.b}`,
    );
    expect(events.slice(1).map((e) => e.code)).toEqual([
      'UNHEALTHY_MEMBER',
      'UNHEALTHY_MEMBER',
      'LOAD_BALANCER_MISMATCH',
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
      expect.stringMatching(/^error: kubernetes-master: etcd main member .* unhealthy/),
      expect.stringMatching(/^error: kubernetes-master: etcd events member .* unhealthy/),
      'warning: kubernetes-master-q2p is healthy but not in the target pool',
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
        'cleared: kubernetes-master-q2p is healthy but not in the target pool',
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
    // Its VM stopped: out of the pool, its members silent.
    const stopped = observed((o) => {
      o.gce!.instances[2]!.status = 'TERMINATED';
      leavePool(o, NAMES.c);
      crash(o, 2);
    });
    expect(diffStatus(base, stopped, T0).filter((e) => e.kind === 'vm')).toEqual([
      expect.objectContaining({
        severity: 'error',
        replica: NAMES.c,
        message: `${NAMES.c}: VM RUNNING -> TERMINATED`,
      }),
      expect.objectContaining({ message: `${NAMES.c} left the load balancer's target pool` }),
    ]);
    // Removed: its VM and its members gone.
    const fewer = observed((o) => {
      dropVm(o, NAMES.c);
      dropMembers(o, 2);
    });
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
    const promoted = observed((o) => {
      for (const c of ETCD_CLUSTERS) {
        const e = o.etcd[c]!;
        e.members = e.members!.map((m) => ({ ...m, isLearner: false }));
        e.statuses = e.statuses.map((s) => ({ ...s, isLearner: false }));
      }
    }, learnerPresentObservations());
    expect(messages(withLearner, promoted)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^main: .* promoted to voter$/),
        expect.stringMatching(/^events: .* promoted to voter$/),
      ]),
    );
  });

  it('reports where the apiserver IP moved', () => {
    const base = healthy3();
    // The static IP given to replica a's VM (as a single master has it), the forwarding rule left behind.
    const moved = observed((o) => {
      o.gce!.staticAddress!.address = '34.66.10.10';
    });
    expect(messages(base, moved)).toEqual([
      `apiserver IP 34.66.10.10 now attached to ${NAMES.a}`,
      'error: forwarding rule holds 35.192.0.10, not the static apiserver IP 34.66.10.10',
    ]);
  });
});

describe('diffStatus when a source answers for the first time', () => {
  it('summarises a cluster once instead of listing every member as added', () => {
    const full = healthy3();
    const gceOnly = observed((o) => {
      o.etcd.main = null;
    });
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
    const etcdOnly = observed((o) => {
      o.gce = null;
    });
    expect(messages(etcdOnly, full)).toEqual([
      'Compute API first answered: 3 replica VMs; apiserver 35.192.0.10 on load balancer kubernetes-master (3 replicas in pool)',
    ]);
  });
});
