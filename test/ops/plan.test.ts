import { describe, expect, it } from 'vitest';
import { buildPlan, type Plan, peerStyleOf } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { crashed, ctx, hostnameStyle, ipStyle, status } from './fixtures.js';

function plan(s: ClusterStatus, r: OpRequest): Plan {
  const b = buildPlan(s, r, ctx());
  if (!b.ok) throw new Error(b.reason);
  return b.plan;
}

const ids = (p: Plan) => p.steps.map((s) => s.id);

describe('plans', () => {
  it('3 → 4: learner first, VM, catch-up, promote, apiserver, then the pool', () => {
    const p = plan(hostnameStyle(3), { kind: 'add', zone: 'us-central1-f', name: null });
    expect(p.summary).toBe('add kubernetes-master-aaa in us-central1-f (3 → 4 replicas)');
    expect(p.loadBalancer).toBe('keep');
    expect(ids(p)).toEqual([
      'snapshot.main',
      'add.disk',
      'add.learner.main',
      'add.learner.events',
      'add.instance',
      'add.catch-up.main',
      'add.catch-up.events',
      'add.promote.main',
      'add.promote.events',
      'add.apiserver',
      'add.pool',
      'verify',
    ]);
    const learner = p.steps.find((s) => s.id === 'add.learner.events')!;
    expect(learner).toMatchObject({
      kind: 'etcd.add-learner',
      args: { cluster: 'events', host: 'kubernetes-master-aaa', peer: { scheme: 'https', port: 2381 } },
    });
    expect(learner.changes).toContain('https://kubernetes-master-aaa:2381');
    expect(p.add).toMatchObject({
      source: { name: 'kubernetes-master', zone: 'us-central1-a' },
      peerStyle: 'hostname',
      initialCluster: [
        'kubernetes-master',
        'kubernetes-master-x7k',
        'kubernetes-master-q2p',
        'kubernetes-master-aaa',
      ],
    });
    // Every step says what it changes; every change that leaves something behind says how it is undone.
    for (const s of p.steps) {
      expect(s.changes.length).toBeGreaterThan(5);
      expect(s.manual.length).toBeGreaterThan(5);
      expect(s.reversible).toBe(true);
    }
    for (const id of ['add.disk', 'add.learner.main', 'add.instance', 'add.pool']) {
      expect(p.steps.find((s) => s.id === id)?.undo).toBeTruthy();
    }
  });

  it('peers addressed by IP (not kube-up): an internal IP is reserved before the member is added', () => {
    expect(peerStyleOf(status(3))).toBe('hostname');
    const s = ipStyle(3);
    expect(peerStyleOf(s)).toBe('ip');
    const p = plan(s, { kind: 'add', zone: 'us-central1-f', name: null });
    expect(ids(p).slice(0, 4)).toEqual(['snapshot.main', 'add.internal-ip', 'add.disk', 'add.learner.main']);
    expect(p.steps.find((x) => x.id === 'add.learner.main')).toMatchObject({ args: { host: null } });
    expect(p.steps.find((x) => x.id === 'add.instance')).toMatchObject({
      args: { internalAddress: 'kubernetes-master-aaa-internal-ip' },
    });
  });

  it('1 → 2: the load balancer first (pool, IP moved, rule, answering), then the add', () => {
    const p = plan(hostnameStyle(1), { kind: 'add', zone: 'us-central1-b', name: null });
    expect(p.loadBalancer).toBe('create');
    expect(ids(p)).toEqual([
      'snapshot.main',
      'lb.target-pool',
      'lb.detach-ip',
      'lb.forwarding-rule',
      'lb.wait-ready',
      'add.disk',
      'add.learner.main',
      'add.learner.events',
      'add.instance',
      'add.catch-up.main',
      'add.catch-up.events',
      'add.promote.main',
      'add.promote.events',
      'add.apiserver',
      'add.pool',
      'verify',
    ]);
    // As kube-up's create-loadbalancer: no health check (an HTTP check on 443 fails against
    // kube-apiserver's TLS), and readiness is an HTTPS request to the static IP.
    expect(p.steps.some((s) => s.kind === 'lb.create-health-check')).toBe(false);
    const pool = p.steps[1];
    expect(pool).toMatchObject({
      kind: 'lb.create-target-pool',
      args: { name: 'kubernetes-master', healthCheck: null, instances: [{ name: 'kubernetes-master' }] },
    });
    expect(pool?.manual).toMatch(
      /^gcloud compute target-pools create kubernetes-master --region us-central1 /,
    );
    expect(pool?.manual).not.toContain('health-check');
    expect(p.steps.find((s) => s.id === 'lb.wait-ready')?.manual).toBe(
      'until curl -k -m1 -s -o /dev/null https://<address of kubernetes-master-ip>; do sleep 1; done',
    );
    expect(p.steps[3]).toMatchObject({
      args: { address: 'kubernetes-master-ip', pool: 'kubernetes-master' },
    });
    expect(p.steps.find((s) => s.id === 'add.pool')).toMatchObject({ args: { pool: 'kubernetes-master' } });
  });

  it('3 → 2: leadership off, out of the pool, members removed (point of no return), VM deleted; the disk after verify', () => {
    const p = plan(hostnameStyle(3), { kind: 'remove', replica: 'kubernetes-master', zone: null });
    expect(p.summary).toBe('remove kubernetes-master (3 → 2 replicas)');
    expect(ids(p)).toEqual([
      'snapshot.main',
      'remove.move-leader.main',
      'remove.move-leader.events',
      'remove.pool',
      'remove.member.main',
      'remove.member.events',
      'remove.instance',
      'verify',
      'remove.disk',
    ]);
    expect(p.steps.find((s) => s.id === 'remove.member.main')).toMatchObject({
      reversible: false,
      args: { memberId: 'a0', peerURLs: ['https://kubernetes-master:2380'] },
    });
    expect(p.steps.find((s) => s.id === 'remove.pool')?.reversible).toBe(true);
    expect(p.steps.find((s) => s.id === 'remove.disk')?.checkpoint).toBe(true);
    expect(p.replicasAfter).toEqual(['kubernetes-master-x7k', 'kubernetes-master-q2p']);
  });

  it('2 → 1: the removal, then the load balancer is torn down and the IP goes to the survivor', () => {
    const p = plan(hostnameStyle(2), { kind: 'remove', replica: 'kubernetes-master-x7k', zone: null });
    expect(p.loadBalancer).toBe('teardown');
    expect(ids(p)).toEqual([
      'snapshot.main',
      'remove.move-leader.main',
      'remove.move-leader.events',
      'remove.pool',
      'remove.member.main',
      'remove.member.events',
      'remove.instance',
      'lb.delete-forwarding-rule',
      'lb.attach-ip',
      'lb.delete-target-pool',
      'lb.delete-health-check',
      'verify',
      'remove.disk',
    ]);
    expect(p.steps.find((s) => s.id === 'lb.attach-ip')).toMatchObject({
      args: {
        replica: { name: 'kubernetes-master', zone: 'us-central1-a' },
        address: 'kubernetes-master-ip',
      },
    });
    expect(p.steps.find((s) => s.id === 'verify')).toMatchObject({
      args: { loadBalancer: false, pool: null },
    });
  });

  it('--keep-disk: no step deletes the old disk; the summary says it is kept for kube-ha cleanup', () => {
    const p = plan(crashed(3, 2), {
      kind: 'replace',
      replica: 'kubernetes-master-q2p',
      zone: null,
      force: false,
      keepDisk: true,
    });
    expect(ids(p)).not.toContain('remove.disk');
    expect(p.steps.some((x) => x.kind === 'disk.delete')).toBe(false);
    expect(ids(p).at(-1)).toBe('verify');
    expect(p.summary).toMatch(/disk kubernetes-master-q2p-pd kept \(kube-ha cleanup deletes it\)$/);
  });

  it('replace: remove the failed replica (no election to move), then add in its zone, one plan', () => {
    const s = crashed(3, 2);
    const p = plan(s, { kind: 'replace', replica: 'kubernetes-master-q2p', zone: null, force: false });
    expect(p.summary).toBe('replace kubernetes-master-q2p with kubernetes-master-aaa in us-central1-c');
    expect(ids(p)).toEqual([
      'snapshot.main',
      'remove.pool',
      'remove.member.main',
      'remove.member.events',
      'remove.instance',
      'add.disk',
      'add.learner.main',
      'add.learner.events',
      'add.instance',
      'add.catch-up.main',
      'add.catch-up.events',
      'add.promote.main',
      'add.promote.events',
      'add.apiserver',
      'add.pool',
      'verify',
      'remove.disk',
    ]);
    // The removal is a consistent stop: a failed add rolls back to it, not past it. The old
    // member's disk stays until the new member is verified.
    expect(p.steps.filter((x) => x.checkpoint).map((x) => x.id)).toEqual([
      'remove.instance',
      'verify',
      'remove.disk',
    ]);
    expect(p.add?.initialCluster).toEqual([
      'kubernetes-master',
      'kubernetes-master-x7k',
      'kubernetes-master-aaa',
    ]);
    expect(p.add?.source.name).not.toBe('kubernetes-master-q2p');
    expect(p.loadBalancer).toBe('keep');
    expect(p.replicasAfter).toHaveLength(3);
  });

  it('replace in a 2-replica cluster keeps the load balancer (no teardown, no re-creation)', () => {
    const p = plan(hostnameStyle(2), {
      kind: 'replace',
      replica: 'kubernetes-master-x7k',
      zone: null,
      force: true,
    });
    expect(ids(p).filter((i) => i.startsWith('lb.'))).toEqual([]);
    expect(ids(p)).toContain('add.pool');
  });

  it('a replica whose VM is gone: no VM deletion, no pool step, zone taken from --zone', () => {
    const s = crashed(3, 2);
    s.replicas = s.replicas.map((r) =>
      r.name === 'kubernetes-master-q2p'
        ? { ...r, zone: null, inTargetPool: false, vm: { ...r.vm, status: 'MISSING' } }
        : r,
    );
    const none = buildPlan(
      s,
      { kind: 'replace', replica: 'kubernetes-master-q2p', zone: null, force: false },
      ctx(),
    );
    expect(none).toMatchObject({ ok: false, reason: expect.stringMatching(/--zone/) });
    const p = plan(s, {
      kind: 'replace',
      replica: 'kubernetes-master-q2p',
      zone: 'us-central1-c',
      force: false,
    });
    expect(ids(p).filter((i) => i.startsWith('remove.'))).toEqual([
      'remove.member.main',
      'remove.member.events',
    ]);
  });

  it('an unknown replica has no plan', () => {
    expect(buildPlan(status(), { kind: 'remove', replica: 'nope', zone: null }, ctx())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no replica named nope/),
    });
  });

  it('remove by zone picks the broken replica in that zone', () => {
    const s = crashed(3, 1);
    s.replicas = s.replicas.map((r) =>
      r.name === 'kubernetes-master-q2p' ? { ...r, zone: 'us-central1-b' } : r,
    );
    const p = plan(s, { kind: 'remove', replica: null, zone: 'us-central1-b' });
    expect(p.remove?.name).toBe('kubernetes-master-x7k');
  });
});
