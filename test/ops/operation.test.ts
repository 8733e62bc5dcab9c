import { describe, expect, it } from 'vitest';
import { advisoriesFor } from '../../src/domain/ops/advisories.js';
import { checkConfirmation, planOperation } from '../../src/domain/ops/operation.js';
import { quorumPreview } from '../../src/domain/ops/quorum-preview.js';
import { renderPlanned } from '../../src/domain/ops/render.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import { crashed, ctx, hostnameStyle, status } from './fixtures.js';

const codes = (p: ReturnType<typeof planOperation>) => p.advisories.map((a) => a.code).sort();

describe('planOperation', () => {
  it('3 → 4 passes, warns about the even count, previews quorum 2 → 3 at the same tolerance', () => {
    const p = planOperation(status(3), { kind: 'add', zone: 'us-central1-f', name: null }, ctx());
    expect(p.ok).toBe(true);
    expect(p.refusals).toEqual([]);
    expect(codes(p)).toEqual(['EVEN_RESULT']);
    expect(p.preview?.main.before).toMatchObject({ voters: 3, quorum: 2, faultTolerance: 1 });
    expect(p.preview?.main.after).toMatchObject({ voters: 4, quorum: 3, faultTolerance: 1, replicas: 4 });
    expect(p.confirmToken).toBeNull();
  });

  it('adding into an occupied zone warns, and so does concentrating quorum', () => {
    // 4 → 5 with a second replica in a: losing a still leaves 3 of 5.
    const p = planOperation(status(4), { kind: 'add', zone: 'us-central1-a', name: null }, ctx());
    expect(p.ok).toBe(true);
    expect(codes(p)).toEqual(['ZONE_OCCUPIED']);
    // 3 → 4 with a second replica in a: losing a leaves 2 of 4, below quorum 3.
    const q = planOperation(status(3), { kind: 'add', zone: 'us-central1-a', name: null }, ctx());
    expect(codes(q)).toEqual(['EVEN_RESULT', 'ZONE_CONCENTRATION', 'ZONE_OCCUPIED']);
    expect(q.advisories.find((a) => a.code === 'ZONE_CONCENTRATION')?.message).toMatch(
      /us-central1-a \(2 of 4 voters\)/,
    );
  });

  it('1 → 2 warns that two are worse than one and that the IP moves to a load balancer', () => {
    const p = planOperation(status(1), { kind: 'add', zone: 'us-central1-b', name: null }, ctx());
    expect(p.ok).toBe(true);
    expect(codes(p)).toEqual(['LOAD_BALANCER_CREATED', 'TWO_REPLICAS']);
  });

  it('2 → 1 warns the load balancer goes; removal needs the name typed', () => {
    const p = planOperation(
      hostnameStyle(2),
      { kind: 'remove', replica: 'kubernetes-master-x7k', zone: null },
      ctx(),
    );
    expect(p.ok).toBe(true);
    expect(codes(p)).toEqual(['LOAD_BALANCER_REMOVED']);
    expect(p.preview?.main.after).toMatchObject({ voters: 1, quorum: 1, faultTolerance: 0 });
    expect(p.confirmToken).toBe('kubernetes-master-x7k');
  });

  const refusals: [string, ReturnType<typeof status>, OpRequest, ReturnType<typeof ctx>, RegExp][] = [
    [
      'removing a healthy replica while another is down',
      crashed(3, 2),
      { kind: 'remove', replica: 'kubernetes-master-x7k', zone: null },
      ctx(),
      /removal-keeps-quorum: removing kubernetes-master-x7k would leave etcd main: 1 healthy of 2 voters left/,
    ],
    [
      'a zone in another region',
      status(3),
      { kind: 'add', zone: 'europe-west1-b', name: null },
      ctx(),
      /zone-in-region: zone europe-west1-b is in region europe-west1/,
    ],
    [
      'an unknown replica',
      status(3),
      { kind: 'replace', replica: 'kubernetes-master-zzz', zone: null, force: false },
      ctx(),
      /replica-exists: no replica named kubernetes-master-zzz/,
    ],
    [
      'a second operation while one runs',
      status(3),
      { kind: 'add', zone: 'us-central1-f', name: null },
      ctx({
        lock: {
          operationId: 'op-1',
          kind: 'add',
          summary: 'add kubernetes-master-abc in us-central1-b',
          holder: { user: 'carol', host: 'ci', pid: 7, tool: 'kube-ha add' },
          since: '2025-01-01T00:00:00.000Z',
        },
      }),
      /no-operation-in-flight: another operation holds the lock: add kubernetes-master-abc in us-central1-b by carol@ci/,
    ],
    [
      'the last member',
      status(1),
      { kind: 'remove', replica: 'kubernetes-master', zone: null },
      ctx(),
      /not-last-member: kubernetes-master is the last voter/,
    ],
    [
      'replacing a healthy replica without --force',
      status(3),
      { kind: 'replace', replica: 'kubernetes-master', zone: null, force: false },
      ctx(),
      /replace-only-unhealthy/,
    ],
  ];
  for (const [what, s, req, c, reason] of refusals) {
    it(`refuses ${what}`, () => {
      const p = planOperation(s, req, c);
      expect(p.ok).toBe(false);
      expect(p.refusals.join('\n')).toMatch(reason);
      expect(renderPlanned(p, { ascii: true })).toContain('Refused, nothing was changed:');
    });
  }

  it('replace of a crashed replica: healthy voters 2 → 3, tolerance 0 → 1', () => {
    const p = planOperation(
      crashed(3, 2),
      { kind: 'replace', replica: 'kubernetes-master-q2p', zone: null, force: false },
      ctx(),
    );
    expect(p.ok).toBe(true);
    expect(p.preview?.main.before).toMatchObject({ voters: 3, healthyVoters: 2, faultTolerance: 0 });
    expect(p.preview?.main.after).toMatchObject({ voters: 3, healthyVoters: 3, faultTolerance: 1 });
    expect(p.advisories).toEqual([]);
    expect(p.confirmToken).toBe('kubernetes-master-q2p');
  });

  it('forced replace of a healthy replica says so', () => {
    const s = status(3);
    const p = planOperation(
      s,
      { kind: 'replace', replica: 'kubernetes-master', zone: null, force: true },
      ctx(),
    );
    expect(codes(p)).toEqual(['REPLACING_HEALTHY']);
    expect(advisoriesFor(s, p.request, p.plan!, quorumPreview(s, p.plan!))).toHaveLength(1);
  });

  it('forceable: only a replace refused for no reason but a healthy replica', () => {
    const replace = (replica: string, force = false): OpRequest => ({
      kind: 'replace',
      replica,
      zone: null,
      force,
    });
    const healthy = planOperation(status(3), replace('kubernetes-master'), ctx());
    expect(healthy.ok).toBe(false);
    expect(healthy.forceable).toBe(true);
    // Forced, it passes and needs the name typed all the same.
    const forced = planOperation(status(3), replace('kubernetes-master', true), ctx());
    expect(forced.ok).toBe(true);
    expect(forced.forceable).toBe(false);
    expect(forced.confirmToken).toBe('kubernetes-master');
    // Not when anything else refuses too, or the replica is unknown, or it is not refused at all.
    const locked = planOperation(
      status(3),
      replace('kubernetes-master'),
      ctx({
        lock: {
          operationId: 'op-1',
          kind: 'add',
          summary: 'add kubernetes-master-abc in us-central1-b',
          holder: { user: 'carol', host: 'ci', pid: 7, tool: 'kube-ha add' },
          since: '2025-01-01T00:00:00.000Z',
        },
      }),
    );
    expect(locked.refusals.join('\n')).toMatch(/replace-only-unhealthy/);
    expect(locked.forceable).toBe(false);
    expect(planOperation(status(3), replace('kubernetes-master-zzz'), ctx()).forceable).toBe(false);
    expect(planOperation(crashed(3, 2), replace('kubernetes-master-q2p'), ctx()).forceable).toBe(false);
    // Healthy, but replacing it while another replica is down would leave no quorum.
    const otherDown = planOperation(crashed(3, 2), replace('kubernetes-master'), ctx());
    expect(otherDown.refusals.join('\n')).toMatch(/replace-only-unhealthy/);
    expect(otherDown.refusals.length).toBeGreaterThan(1);
    expect(otherDown.forceable).toBe(false);
    expect(
      planOperation(status(3), { kind: 'remove', replica: 'kubernetes-master', zone: null }, ctx()).forceable,
    ).toBe(false);
  });

  it('confirmation: typed name, --confirm NAME, --yes', () => {
    const rm = planOperation(
      status(3),
      { kind: 'remove', replica: 'kubernetes-master-q2p', zone: null },
      ctx(),
    );
    expect(checkConfirmation(rm, { yes: false, confirm: null })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/type kubernetes-master-q2p/),
    });
    expect(checkConfirmation(rm, { yes: false, confirm: 'kubernetes-master' }).ok).toBe(false);
    expect(checkConfirmation(rm, { yes: false, confirm: 'kubernetes-master-q2p' }).ok).toBe(true);
    expect(checkConfirmation(rm, { yes: false, confirm: null, interactiveAnswer: 'y' }).ok).toBe(false);
    expect(checkConfirmation(rm, { yes: true, confirm: null }).ok).toBe(true);
    const add = planOperation(status(3), { kind: 'add', zone: 'us-central1-f', name: null }, ctx());
    expect(checkConfirmation(add, { yes: false, confirm: null, interactiveAnswer: 'yes' }).ok).toBe(true);
    expect(checkConfirmation(add, { yes: false, confirm: null, interactiveAnswer: 'n' }).ok).toBe(false);
  });

  it('renders checks, quorum, warnings and numbered steps', () => {
    const p = planOperation(status(3), { kind: 'add', zone: 'us-central1-f', name: null }, ctx());
    const text = renderPlanned(p, { ascii: true, manual: true });
    expect(text).toContain('Plan: add kubernetes-master-aaa in us-central1-f (3 → 4 replicas)');
    expect(text).toContain('ok  cluster-healthy');
    expect(text).toContain(
      'etcd main: voters 3 → 4 · healthy 3 → 4 · quorum 2 → 3 · tolerates 1 → 1 failure',
    );
    expect(text).toContain('! the result has 4 voters');
    expect(text).toMatch(/ 1\. Save a snapshot of etcd main/);
    expect(text).toMatch(/ 2\. Create disk kubernetes-master-aaa-pd in us-central1-f/);
    expect(text).toContain('by hand: gcloud compute disks create kubernetes-master-aaa-pd');
  });
});
