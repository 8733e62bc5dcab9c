// Issue 16's acceptance for NOSPACE, on one 3-replica lab through the CLI:
// `lab fill` raises NOSPACE, `kube-ha defrag --yes` compacts, defragments
// member by member and disarms, and the cluster is healthy again with every
// member's database smaller. A writer runs through the whole flow against
// every member; while a member is defragmented, writes through the others go
// on (no failure longer than an election plus one call's deadline).
// A second defrag, out of NOSPACE, checks the leader leases renew between members.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/domain/ops/journal.js';
import { defragSizes } from '../../src/domain/ops/plan-defrag.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabContext } from '../../src/lab/context.js';
import { errorMessage } from '../../src/net/etcd-client.js';
import { MemberClients } from '../../src/sources/member-clients.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import { cli, opsLab, status } from './lab-helpers.js';

/** etcd's election timeout in the lab (kube-up leaves etcd's default) plus one write's deadline, and a tick. */
const LONGEST_GAP_MS = 1000 + 1000 + 500;

interface Attempt {
  endpoint: string;
  at: number;
  ok: boolean;
  error?: string;
}

/**
 * Every 100 ms, a write through each member: a delete (a raft write etcd
 * accepts in NOSPACE too), then a put (refused with NOSPACE while the alarm
 * stands: an answer, not a failure). Records every attempt until stopped.
 */
function startWriter(endpoints: string[], tls: { caFile: string; certFile: string; keyFile: string }) {
  const clients = new MemberClients({ tls, timeoutMs: 1000 });
  const attempts: Attempt[] = [];
  let running = true;
  const one = async (endpoint: string, i: number) => {
    const at = Date.now();
    try {
      const c = await clients.get(endpoint);
      await c.delete().key(`/lab-writer/${i}`);
      try {
        await c.put(`/lab-writer/${i}`).value(String(at));
      } catch (err) {
        if (!/space exceeded/.test(errorMessage(err))) throw err;
      }
      attempts.push({ endpoint, at, ok: true });
    } catch (err) {
      attempts.push({ endpoint, at, ok: false, error: errorMessage(err) });
    }
  };
  const loop = (async () => {
    // Bounded: the flow takes seconds; a writer left running would outlive the lab.
    const until = Date.now() + 180_000;
    while (running && Date.now() < until) {
      const tick = Date.now();
      await Promise.all(endpoints.map((e, i) => one(e, i)));
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
    }
  })();
  return {
    attempts,
    async stop() {
      running = false;
      await loop;
      clients.close();
    },
  };
}

/** The longest run of failed writes through `endpoint` outside `skip` (from the first failure to the next success). */
function longestGap(
  attempts: Attempt[],
  endpoint: string,
  skip: [number, number][],
): { ms: number; error?: string } {
  const mine = attempts.filter(
    (a) => a.endpoint === endpoint && !skip.some(([s, e]) => a.at >= s && a.at <= e),
  );
  mine.sort((a, b) => a.at - b.at);
  let worst = { ms: 0 } as { ms: number; error?: string };
  let firstFail: Attempt | null = null;
  for (const a of mine) {
    if (!a.ok) firstFail ??= a;
    else if (firstFail) {
      if (a.at - firstFail.at > worst.ms) worst = { ms: a.at - firstFail.at, error: firstFail.error ?? '' };
      firstFail = null;
    }
  }
  if (firstFail) worst = { ms: Number.POSITIVE_INFINITY, error: `never recovered: ${firstFail.error}` };
  return worst;
}

describe('NOSPACE → kube-ha defrag → healthy (lab, 3 replicas)', () => {
  const dir = tempLabDir();
  const lab = opsLab(dir);
  beforeAll(async () => {
    await labUp(dir, ['--replicas', '3', '--quota-backend-bytes', String(2 * 1024 * 1024)]);
  });
  afterAll(async () => {
    await labDown(dir);
  });

  it('defragments member by member while the others keep taking writes; alarms gone, sizes smaller', async () => {
    const fill = await runCli(['lab', 'fill', '--dir', dir, '--timeout', '60']);
    expect(fill.code, fill.stderr).toBe(0);
    // The alarm is raft state: a follower that applies late reports it late (a loaded machine).
    const nospace = (s: ClusterStatus) => s.replicas.every((r) => r.etcd.main?.alarms?.includes('NOSPACE'));
    const before: ClusterStatus = await eventually(async () => {
      const s = await status(lab);
      return nospace(s) ? s : null;
    }, 20_000).catch(async () => status(lab));
    expect(before.replicas.map((r) => r.etcd.main?.alarms)).toEqual([['NOSPACE'], ['NOSPACE'], ['NOSPACE']]);

    const leader = before.replicas.find((r) => r.etcd.main?.leader)!.name;
    const ctx = readLabContext(dir);
    const byEndpoint = new Map(before.replicas.map((r) => [r.etcd.main!.endpoint!, r.name]));
    const writer = startWriter([...byEndpoint.keys()], ctx.etcd.main);
    let res: Awaited<ReturnType<typeof cli>>;
    try {
      res = await cli(lab, ['defrag', '--yes', '--json']);
    } finally {
      await writer.stop();
    }
    expect(res.code, res.stderr).toBe(0);
    const { planned, result } = JSON.parse(res.stdout) as {
      planned: { checks: { name: string; reason: string }[] };
      result: { outcome: string; journal: Journal };
    };
    expect(result.outcome).toBe('done');
    // Followers first; leadership moved off the leader right before its own defragmentation.
    const ids = result.journal.plan.steps.map((x) => x.id);
    expect(ids.slice(-4)).toEqual([
      'defrag.move-leader.main',
      `defrag.member.main.${leader}`,
      'defrag.disarm.main',
      'defrag.verify.main',
    ]);
    expect(planned.checks.find((c) => c.name === 'lock-writable')?.reason).toContain('taken in etcd events');
    // The lock could not be taken in main (NOSPACE): it was taken in events.
    expect(res.stderr).toMatch(/etcd events put \/kube-ha\/operation-lock if absent.* → taken/);

    // Each member's database is smaller; the result said so.
    const sizes = defragSizes(result.journal.facts);
    expect(sizes.map((s) => s.replica).sort()).toEqual(before.replicas.map((r) => r.name).sort());
    for (const s of sizes) expect(s.after).toBeLessThan(s.before / 2);

    // Writes through the members not being defragmented went on; failures only around the leader's move.
    const steps = result.journal.plan.steps;
    const span = (id: string): [number, number] => {
      const rec = result.journal.steps.find((x) => x.id === id)!;
      return [Date.parse(rec.startedAt!), Date.parse(rec.endedAt!)];
    };
    const defrags = steps.filter((x) => x.kind === 'etcd.defrag');
    expect(defrags).toHaveLength(3);
    const total = writer.attempts.length;
    for (const [endpoint, replica] of byEndpoint) {
      const own = defrags
        .filter((x) => (x.args as { replica: string }).replica === replica)
        .map((x) => span(x.id));
      // Writes through this member while another one was defragmented:
      const during = defrags
        .filter((x) => (x.args as { replica: string }).replica !== replica)
        .map((x) => span(x.id));
      const covered = writer.attempts.filter(
        (a) => a.endpoint === endpoint && during.some(([s, e]) => a.at >= s && a.at <= e),
      );
      expect(covered.length, `writes through ${replica} during the others' defragmentation`).toBeGreaterThan(
        0,
      );
      const gap = longestGap(writer.attempts, endpoint, own);
      expect(gap.ms, `${replica}: ${gap.error}`).toBeLessThanOrEqual(LONGEST_GAP_MS);
    }
    expect(total).toBeGreaterThan(20);

    const after = await status(lab);
    expect(after.warnings.map((w) => w.code)).not.toContain('ETCD_ALARM');
    for (const r of after.replicas)
      expect(r.etcd.main).toMatchObject({ healthy: true, alarms: [], state: 'healthy' });
  }, 120_000);

  it('out of NOSPACE, the leader leases are checked renewing after each member', async () => {
    const res = await cli(lab, ['defrag', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    const renewed = res.stderr
      .split('\n')
      .filter((l) => /✓ +\d+\. done .*kube-controller-manager.* renewed/.test(l));
    expect(renewed).toHaveLength(3);
    expect(res.stdout).toContain('database size before → after:');
  }, 60_000);
});
