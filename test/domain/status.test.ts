import { describe, expect, it } from 'vitest';
import { buildStatus, statusExitCode } from '../../src/domain/status.js';
import type { Warning } from '../../src/domain/types.js';
import { crash, etcd, gce, healthy, instance } from '../helpers/observations.js';

const codes = (ws: Warning[]) => ws.map((w) => w.code).sort();

describe('buildStatus', () => {
  it('joins a healthy 3-zone cluster', () => {
    const s = buildStatus(healthy());
    expect(s.replicas.map((r) => [r.name, r.zone])).toEqual([
      ['kubernetes-master', 'us-central1-a'],
      ['kubernetes-master-x7k', 'us-central1-b'],
      ['kubernetes-master-q2p', 'us-central1-c'],
    ]);
    expect(s.replicas.every((r) => r.etcd.main?.healthy && r.etcd.events?.healthy)).toBe(true);
    expect(s.etcd.main).toMatchObject({
      members: 3,
      votingMembers: 3,
      healthyMembers: 3,
      quorum: 2,
      faultTolerance: 1,
    });
    expect(s.etcd.main.leaderId).toBe('a0');
    expect(s.replicas.filter((r) => r.etcd.main?.leader).map((r) => r.name)).toEqual(['kubernetes-master']);
    expect(s.loadBalancer).toMatchObject({ forwardingRule: 'kubernetes-master', ip: '127.20.3.1' });
    expect(s.loadBalancer?.instances).toHaveLength(3);
    expect(s.apiserverIP).toEqual({ address: '127.20.3.1', attachedTo: 'load-balancer' });
    expect(s.warnings).toEqual([]);
    expect(statusExitCode(s)).toBe(0);
  });

  it('a crashed leader: new leader, member unhealthy, exit 5', () => {
    const obs = healthy();
    const main = crash(etcd('main', 3, 1), 0);
    const s = buildStatus({ ...obs, etcd: { ...obs.etcd, main } });
    expect(s.etcd.main).toMatchObject({ healthyMembers: 2, faultTolerance: 0, leaderId: 'a1' });
    const r0 = s.replicas.find((r) => r.name === 'kubernetes-master')!;
    expect(r0.etcd.main).toMatchObject({ healthy: false, leader: false, error: 'connection refused' });
    expect(codes(s.warnings)).toEqual(['UNHEALTHY_MEMBER']);
    expect(statusExitCode(s)).toBe(5);
  });

  it('matches members by peer URL when the name is empty (added, never started)', () => {
    const obs = healthy();
    const main = etcd('main', 3);
    main.members![2] = { ...main.members![2]!, name: '', clientURLs: [] };
    main.statuses = main.statuses.slice(0, 2);
    const s = buildStatus({ ...obs, etcd: { ...obs.etcd, main } });
    const r = s.replicas.find((x) => x.name === 'kubernetes-master-q2p')!;
    expect(r.etcd.main).toMatchObject({ healthy: false, error: 'not started (added, never joined)' });
    expect(s.replicas).toHaveLength(3);
  });

  it('a member without a VM and a VM without a member', () => {
    const obs = healthy();
    const g = gce(3);
    g.instances = [
      g.instances[0]!,
      g.instances[1]!,
      instance(3, { name: 'kubernetes-master-new', zone: 'us-central1-f' }),
    ];
    const s = buildStatus({ ...obs, gce: g });
    const orphan = s.replicas.find((r) => r.name === 'kubernetes-master-q2p')!;
    expect(orphan.vm.status).toBe('MISSING');
    expect(orphan.zone).toBeNull();
    expect(orphan.etcd.events).not.toBeNull();
    const lonely = s.replicas.find((r) => r.name === 'kubernetes-master-new')!;
    expect(lonely.etcd.main).toBeNull();
    expect(codes(s.warnings)).toEqual(
      expect.arrayContaining(['MEMBER_WITHOUT_VM', 'VM_WITHOUT_MEMBER', 'LOAD_BALANCER_MISMATCH']),
    );
    expect(statusExitCode(s)).toBe(5);
  });

  it('etcd-only mode: replicas from members, VM status UNKNOWN, no GCE warnings', () => {
    const obs = healthy();
    const s = buildStatus({ ...obs, gce: null });
    expect(s.replicas.map((r) => r.name)).toEqual([
      'kubernetes-master',
      'kubernetes-master-q2p',
      'kubernetes-master-x7k',
    ]);
    expect(s.replicas.every((r) => r.vm.status === 'UNKNOWN' && r.etcd.main && r.etcd.events)).toBe(true);
    expect(s.loadBalancer).toBeNull();
    expect(s.warnings).toEqual([]);
    expect(s.sources).toEqual({ gce: false, etcd: true });
  });

  it('even counts, two members, learners', () => {
    const four = buildStatus(healthy(4));
    expect(codes(four.warnings)).toEqual(['EVEN_MEMBER_COUNT', 'EVEN_MEMBER_COUNT']);
    expect(four.etcd.main).toMatchObject({ quorum: 3, faultTolerance: 1 });
    const two = buildStatus(healthy(2));
    expect(codes(two.warnings)).toEqual(['TWO_MEMBERS', 'TWO_MEMBERS']);
    const obs = healthy(4);
    obs.etcd.main!.members![3]!.isLearner = true;
    const learner = buildStatus(obs);
    expect(learner.etcd.main).toMatchObject({ votingMembers: 3, learners: 1, quorum: 2 });
    expect(codes(learner.warnings)).toContain('LEARNER_PRESENT');
  });

  it('zone concentration and replicas outside the region', () => {
    const obs = healthy();
    obs.gce!.instances[1]!.zone = 'us-central1-a';
    expect(codes(buildStatus(obs).warnings)).toEqual(['ZONE_CONCENTRATION']);
    obs.gce!.instances[2]!.zone = 'europe-west1-b';
    expect(codes(buildStatus(obs).warnings)).toEqual(['REPLICA_OUTSIDE_REGION', 'ZONE_CONCENTRATION']);
  });

  it('no leader and lost quorum', () => {
    const obs = healthy();
    let main = crash(crash(etcd('main'), 1), 2);
    main = { ...main, statuses: main.statuses.map((s) => (s.ok ? { ...s, leaderId: '0' } : s)) };
    const s = buildStatus({ ...obs, etcd: { ...obs.etcd, main } });
    expect(s.etcd.main).toMatchObject({ healthyVoters: 0, faultTolerance: -1, leaderId: null });
    expect(codes(s.warnings)).toEqual(
      expect.arrayContaining(['NO_LEADER', 'QUORUM_LOST', 'UNHEALTHY_MEMBER']),
    );
  });

  it('etcd unreachable and GCE unreachable are errors with the cause', () => {
    const obs = healthy();
    const s = buildStatus({
      ...obs,
      gce: null,
      gceError: 'deadline exceeded',
      etcd: {
        main: { ...etcd('main'), members: null, membersError: 'no endpoint answered', statuses: [] },
        events: null,
      },
    });
    expect(s.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining(['Compute API: deadline exceeded', 'etcd main: no endpoint answered']),
    );
    expect(statusExitCode(s)).toBe(5);
  });

  it('a single replica holds the static IP itself', () => {
    const s = buildStatus(healthy(1));
    expect(s.apiserverIP).toEqual({ address: '127.20.2.1', attachedTo: 'kubernetes-master' });
    expect(s.loadBalancer).toBeNull();
    expect(s.warnings).toEqual([]);
  });

  it('load balancer missing a healthy replica, or no load balancer with 2+', () => {
    const obs = healthy();
    obs.gce!.targetPool!.instances = obs.gce!.targetPool!.instances.slice(0, 2);
    expect(codes(buildStatus(obs).warnings)).toEqual(['LOAD_BALANCER_MISMATCH']);
    const noLb = healthy();
    noLb.gce!.forwardingRule = null;
    const s = buildStatus(noLb);
    expect(s.warnings.find((w) => w.code === 'LOAD_BALANCER_MISMATCH')?.severity).toBe('error');
  });
});

describe('partial success of the aggregated list', () => {
  it('a member whose zone GCE cannot reach has an UNKNOWN VM, not a MISSING one', () => {
    const obs = healthy();
    const g = gce(3);
    g.instances = g.instances.slice(0, 2);
    g.unreachableZones = ['us-central1-c'];
    const s = buildStatus({ ...obs, gce: g });
    const r = s.replicas.find((x) => x.name === 'kubernetes-master-q2p')!;
    expect(r.vm.status).toBe('UNKNOWN');
    expect(s.warnings.map((w) => w.code)).toEqual(['GCE_UNREACHABLE']);
    expect(s.warnings.find((w) => w.code === 'GCE_UNREACHABLE')?.message).toMatch(/us-central1-c/);
  });
});
