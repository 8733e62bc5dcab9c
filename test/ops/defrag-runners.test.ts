// The defrag step runners (src/ops/runners/defrag.ts) against a real 3-member
// etcd filled to NOSPACE: compaction to the current revision, each member
// defragmented (the leader's turn moves leadership off it first; a member
// whose peers could not hold a quorum without it is refused), the alarm
// disarmed with a write accepted again, and the verification with sizes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanStep } from '../../src/domain/ops/plan.js';
import { sizeFact } from '../../src/domain/ops/plan-defrag.js';
import { fillUntilNoSpace } from '../../src/lab/fill.js';
import { createEtcdClient } from '../../src/net/etcd-client.js';
import { EtcdOps } from '../../src/ops/etcd-ops.js';
import { DEFAULT_TIMING, type RunContext, runnerFor } from '../../src/ops/runners.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

const QUOTA = 1024 * 1024;
/** What the filler keeps live: it rewrites 8 keys of 64 KB (src/lab/fill.ts). */
const FILLER_LIVE_BYTES = 8 * 64 * 1024;

function step(spec: Pick<PlanStep, 'kind' | 'args'>): PlanStep {
  return {
    id: spec.kind,
    title: spec.kind,
    changes: '',
    undo: null,
    manual: '',
    manualUndo: null,
    reversible: true,
    checkpoint: false,
    ...spec,
  } as PlanStep;
}

describe('defrag runners against a real etcd in NOSPACE', () => {
  let cluster: TestCluster;
  let etcd: EtcdOps;
  const calls: string[] = [];
  const facts: Record<string, string> = {};
  let ctx: RunContext;
  const run = (s: Pick<PlanStep, 'kind' | 'args'>) => {
    const st = step(s);
    return runnerFor(st).run(st, ctx);
  };
  /** Member ID and name of each member, the leader's first. */
  const members = async () => {
    const snap = await etcd.snapshot(true);
    return { leader: snap.leader!, all: snap.members.map((m) => ({ id: m.id, name: m.name })) };
  };

  beforeAll(async () => {
    cluster = await startTestCluster(3, { quotaBackendBytes: QUOTA });
    etcd = new EtcdOps('main', { endpoints: cluster.endpoints, tls: null }, 3000, (l) => calls.push(l));
    ctx = {
      plan: null as unknown as RunContext['plan'],
      compute: null as unknown as RunContext['compute'],
      etcd: { main: etcd, events: etcd },
      facts,
      timing: { ...DEFAULT_TIMING, verifyTimeoutMs: 15_000 },
      observe: () => Promise.reject(new Error('not observed')),
      apiserverProbe: null,
      snapshotDir: null,
      note: () => {},
      progress: () => {},
    };
    const client = createEtcdClient(cluster.endpoints[0]!, { tls: null, timeoutMs: 3000 });
    try {
      const fill = await fillUntilNoSpace(client, { maxBytes: 8 * QUOTA, deadlineMs: 20_000 });
      expect(fill.noSpace).toMatch(/database space exceeded/);
    } finally {
      client.close();
    }
  });
  afterAll(async () => {
    etcd?.close();
    await cluster?.stop();
  });

  it('refuses to defragment a member while the others could not hold a quorum without it', async () => {
    const { leader, all } = await members();
    const follower = all.find((m) => m.id !== leader)!;
    const leaderName = all.find((m) => m.id === leader)!.name;
    // The other follower stops answering (frozen): the leader and this follower are not a quorum of 2 others.
    const other = cluster.members.find((m) => m.spec.name !== follower.name && m.spec.name !== leaderName)!;
    other.child.kill('SIGSTOP');
    try {
      await expect(
        run({
          kind: 'etcd.defrag',
          args: { cluster: 'main', replica: follower.name, memberId: follower.id },
        }),
      ).rejects.toThrow(/only 1 of the 2 other voters of etcd main answer \(2 needed without/);
      // Nothing was defragmented.
      expect(calls.some((l) => l.includes('defrag →'))).toBe(false);
    } finally {
      other.child.kill('SIGCONT');
    }
  });

  it('compacts, defragments followers then the leader (moved off first), disarms and verifies', async () => {
    // The member thawed above may need a moment to answer again; the runners look afresh.
    await new Promise((r) => setTimeout(r, 500));
    const before = await members();
    const sizes = new Map<string, number>();
    for (const e of cluster.endpoints) {
      const s = await etcd.endpointStatus(e);
      sizes.set(s.memberId, s.dbSize);
    }
    const compact = await run({ kind: 'etcd.compact', args: { cluster: 'main' } });
    expect(compact.note).toMatch(/^compacted to revision \d+$/);

    const order = [
      ...before.all.filter((m) => m.id !== before.leader),
      before.all.find((m) => m.id === before.leader)!,
    ];
    for (const m of order) {
      const out = await run({
        kind: 'etcd.defrag',
        args: { cluster: 'main', replica: m.name, memberId: m.id },
      });
      expect(out.note).toMatch(/a write committed through it/);
      if (m.id === before.leader) expect(out.note).toMatch(/leadership moved to [0-9a-f]+ first/);
      // In NOSPACE no lease can renew: the canary is the check, and it says so.
      expect(out.note).toContain('leases not checked (NOSPACE');
      const [b, a] = facts[sizeFact('main', m.name)]!.split('->').map(Number);
      expect(b).toBe(sizes.get(m.id));
      // Smaller, and down to about what is live: the filler's keys (8 of 64 KB)
      // and etcd's own pages. Not "under half": a member the quota did not
      // reach itself (another raised NOSPACE) can sit at 0.98 MB, 0.55 after.
      expect(a!).toBeLessThan(b!);
      expect(a!).toBeLessThan(FILLER_LIVE_BYTES * 1.3);
    }
    expect((await members()).leader).not.toBe(before.leader);
    // One defragmentation per member, each through its own endpoint, never two at once (they are sequential calls).
    expect(calls.filter((l) => l.includes('defrag → ok'))).toHaveLength(3);

    const disarm = await run({ kind: 'etcd.disarm', args: { cluster: 'main' } });
    expect(disarm.note).toMatch(/^disarmed NOSPACE of [0-9a-f]+.*; a write is accepted$/);
    const verify = await run({
      kind: 'etcd.verify-space',
      args: { cluster: 'main', replicas: order.map((m) => m.name) },
    });
    expect(verify.note).toMatch(/^3 healthy voters, no alarm; database sizes: /);
    // Writes are accepted again.
    const client = createEtcdClient(cluster.endpoints[1]!, { tls: null, timeoutMs: 3000 });
    try {
      await client.put('/after-defrag').value('x');
      expect(await client.get('/after-defrag').string()).toBe('x');
    } finally {
      client.close();
    }
  });
});
