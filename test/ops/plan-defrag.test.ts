// The plan and the checks of `kube-ha defrag` (src/domain/ops/plan-defrag.ts,
// preflight-defrag.ts): which clusters, followers first, leadership moved off
// the leader right before its own defragmentation, refused while a member is
// down, and where the lock goes when etcd main is in NOSPACE.
import { describe, expect, it } from 'vitest';
import { newJournal } from '../../src/domain/ops/journal.js';
import { validateJournal } from '../../src/domain/ops/journal-parse.js';
import { planOperation } from '../../src/domain/ops/operation.js';
import { parseDefragRequest, RequestError } from '../../src/domain/ops/request.js';
import { buildStatus, type Observations } from '../../src/domain/status.js';
import type { ClusterStatus, EtcdClusterName } from '../../src/domain/types.js';
import { etcd, healthy } from '../helpers/observations.js';
import { crashed, ctx, status } from './fixtures.js';

const defrag = (cluster: EtcdClusterName | null = null) => ({ kind: 'defrag' as const, cluster });

/** n replicas, `leader` leading both clusters, the clusters in `nospace` reporting the alarm. */
function cluster(n: number, leader = 0, nospace: EtcdClusterName[] = []): ClusterStatus {
  const obs: Observations = healthy(n);
  for (const c of ['main', 'events'] as const) {
    const o = etcd(c, n, leader);
    if (nospace.includes(c)) {
      const raiser = BigInt(`0x${o.members![leader]!.id}`).toString();
      for (const s of o.statuses) (s as { errors?: string[] }).errors = [`memberID:${raiser} alarm:NOSPACE `];
    }
    obs.etcd[c] = o;
  }
  return buildStatus(obs);
}

const ids = (s: ClusterStatus, request = defrag()) => {
  const p = planOperation(s, request, ctx());
  return p.plan!.steps.map((x) => x.id);
};

describe('kube-ha defrag: the plan', () => {
  it('parses --cluster main|events and refuses anything else', () => {
    expect(parseDefragRequest({})).toEqual({ kind: 'defrag', cluster: null });
    expect(parseDefragRequest({ cluster: 'events' })).toEqual({ kind: 'defrag', cluster: 'events' });
    expect(() => parseDefragRequest({ cluster: 'mian' })).toThrow(RequestError);
  });

  it('snapshot, compaction, followers first, leadership moved off the leader right before its own turn, disarm, verify', () => {
    // The leader is the middle replica: it still goes last.
    const s = cluster(3, 1);
    const leader = s.replicas[1]!.name;
    const [f1, f2] = [s.replicas[0]!.name, s.replicas[2]!.name].sort();
    expect(ids(s)).toEqual([
      'snapshot.main',
      'defrag.compact.main',
      `defrag.member.main.${f1}`,
      `defrag.member.main.${f2}`,
      'defrag.move-leader.main',
      `defrag.member.main.${leader}`,
      'defrag.disarm.main',
      'defrag.verify.main',
    ]);
    const p = planOperation(s, defrag(), ctx());
    expect(p.ok).toBe(true);
    const steps = p.plan!.steps;
    const move = steps.find((x) => x.id === 'defrag.move-leader.main')!;
    expect(move).toMatchObject({ kind: 'etcd.move-leader', args: { cluster: 'main', replica: leader } });
    // Each step names its member, with the manual etcdctl equivalent against that member.
    const last = steps.find((x) => x.id === `defrag.member.main.${leader}`)!;
    expect(last).toMatchObject({
      kind: 'etcd.defrag',
      args: { replica: leader, memberId: s.replicas[1]!.etcd.main!.memberId },
    });
    expect(last.title).toContain(leader);
    expect(last.manual).toMatch(/^etcdctl --endpoints https:\/\/[\d.]+:2379 defrag --command-timeout=600s$/);
    expect(steps.find((x) => x.kind === 'etcd.compact')!.manual).toContain('compaction --physical');
    expect(steps.find((x) => x.kind === 'etcd.disarm')!.manual).toContain('alarm disarm');
    // Nothing to undo, and nothing past a point of no return: a failure stops and leaves the rest for a resume.
    expect(steps.every((x) => x.undo === null && x.reversible)).toBe(true);
    expect(p.plan!.replicasAfter).toEqual(p.plan!.replicasBefore);
    expect(p.confirmToken).toBeNull();
  });

  it('chooses every cluster in NOSPACE, else main; --cluster overrides', () => {
    expect(ids(cluster(3, 0, ['events'])).filter((x) => x.startsWith('defrag.compact'))).toEqual([
      'defrag.compact.events',
    ]);
    expect(ids(cluster(3)).filter((x) => x.startsWith('defrag.compact'))).toEqual(['defrag.compact.main']);
    expect(
      ids(cluster(3, 0, ['main']), defrag('events')).filter((x) => x.startsWith('defrag.compact')),
    ).toEqual(['defrag.compact.events']);
    const events = planOperation(cluster(3, 0, ['events']), defrag(), ctx()).plan!;
    expect(events.summary).toMatch(/defrag etcd events .*NOSPACE in events/);
    // The events member's manual command uses events' own client port, over plain http as kube-up's.
    expect(events.steps.find((x) => x.kind === 'etcd.defrag')!.manual).toMatch(/http:\/\/[\d.]+:4002 defrag/);
  });

  it('refuses while a member of the cluster is down, naming it', () => {
    const s = crashed(3, 2);
    const p = planOperation(s, defrag(), ctx());
    expect(p.ok).toBe(false);
    expect(p.refusals.join('\n')).toMatch(
      new RegExp(`every-member-healthy: etcd main: ${s.replicas[2]!.name} is unhealthy`),
    );
  });

  it('with etcd main in NOSPACE the lock goes to events; with both in NOSPACE it is refused', () => {
    const main = planOperation(cluster(3, 0, ['main']), defrag(), ctx());
    expect(main.ok).toBe(true);
    expect(main.checks.find((c) => c.name === 'lock-writable')!.reason).toContain('taken in etcd events');
    const both = planOperation(cluster(3, 0, ['main', 'events']), defrag(), ctx());
    expect(both.ok).toBe(false);
    expect(both.refusals.join('\n')).toMatch(/lock-writable: etcd main and events both refuse writes/);
  });

  it('one replica: no leader to move, and the warning that reads and writes wait', () => {
    const p = planOperation(status(1), defrag(), ctx());
    expect(p.ok).toBe(true);
    expect(p.plan!.steps.map((x) => x.kind)).toEqual([
      'etcd.snapshot',
      'etcd.compact',
      'etcd.defrag',
      'etcd.disarm',
      'etcd.verify-space',
    ]);
    expect(p.advisories.map((a) => a.message).join('\n')).toMatch(/1 voter: .* reads and writes wait/);
  });

  it('journals as any other plan (the journal parser knows its step kinds)', () => {
    const plan = planOperation(cluster(5, 2, ['main']), defrag(), ctx()).plan!;
    const j = newJournal(plan, { user: 'u', host: 'h', pid: 1, tool: 't' }, new Date(0));
    const back = validateJournal(JSON.parse(JSON.stringify(j)));
    expect(back.ok, back.ok ? '' : back.reason).toBe(true);
  });
});
