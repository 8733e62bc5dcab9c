// EtcdClusterSource against a real 3-member etcd cluster: the member list is
// asked of one endpoint (the others only when it fails or hangs), and the
// console's reuse of a recent list never hides a change a status reveals.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdClusterSource, MEMBER_LIST_HEDGE_MS } from '../../src/sources/etcd.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

/** etcd refuses reconfiguration ("unhealthy cluster") until its members have been connected for ~5 s. */
async function addLearner(source: EtcdClusterSource, endpoint: string, peerURL: string) {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      return await (await source.client(endpoint)).cluster.memberAdd({
        peerURLs: [peerURL],
        isLearner: true,
      });
    } catch (err) {
      if (!/unhealthy cluster/.test(String(err)) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A retried remove whose first attempt landed answers "member not found": that is done too. */
async function removeMember(source: EtcdClusterSource, endpoint: string, id: string) {
  try {
    await (await source.client(endpoint)).cluster.memberRemove({ ID: id });
  } catch (err) {
    if (!/member not found/.test(String(err))) throw err;
  }
}

describe('EtcdClusterSource on a real cluster', () => {
  let cluster: TestCluster;
  let source: EtcdClusterSource;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    source?.close();
    await cluster?.stop();
  });

  it('reads membership and every member status on the first poll', async () => {
    source = new EtcdClusterSource('events', { endpoints: cluster.endpoints, tls: null }, 1500);
    const obs = await source.observe({ membersMaxAgeMs: 60_000 });
    expect(obs.membersError).toBeNull();
    expect(obs.members?.map((m) => m.name).sort()).toEqual(['m0', 'm1', 'm2']);
    expect(obs.statuses.map((s) => s.ok)).toEqual([true, true, true]);
    expect(new Set(obs.statuses.map((s) => s.memberId))).toEqual(new Set(obs.members?.map((m) => m.id)));
  });

  it('reuses a recent list, re-reads it when told to, and never hides a learner from a fresh read', async () => {
    const added = await addLearner(source, cluster.endpoints[0]!, `http://127.${cluster.block.n}.1.9:2380`);
    try {
      const cached = await source.observe({ membersMaxAgeMs: 60_000 });
      expect(cached.members).toHaveLength(3);
      const fresh = await source.observe({ membersMaxAgeMs: 0 });
      expect(fresh.members).toHaveLength(4);
      expect(fresh.members?.find((m) => m.isLearner)?.peerURLs).toEqual([
        `http://127.${cluster.block.n}.1.9:2380`,
      ]);
      // status, the operations: no option means a fresh list every time.
      expect((await source.observe()).members).toHaveLength(4);
    } finally {
      await removeMember(source, cluster.endpoints[0]!, added.member.ID);
    }
    expect((await source.observe()).members).toHaveLength(3);
  });

  it('lists through another member when the one it asks first hangs', async () => {
    // Its calls' deadline is far past the test's own timeout: an answer at all
    // means the frozen member was not waited for (the others were asked).
    const hedged = new EtcdClusterSource('events', { endpoints: cluster.endpoints, tls: null }, 600_000);
    // The endpoint that answered last is asked first next time: make that the first seed.
    await hedged.listMembers([cluster.endpoints[0]!]);
    const frozen = cluster.members[0]!;
    // Which endpoints each list asks, in order (the real clients still answer).
    const asked: string[] = [];
    const client = hedged.client.bind(hedged);
    vi.spyOn(hedged, 'client').mockImplementation((e) => {
      asked.push(e);
      return client(e);
    });
    process.kill(frozen.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const members = await hedged.listMembers(cluster.endpoints);
      expect(members).toHaveLength(3);
      // It was asked first: the others only after the hedge delay.
      expect(asked[0]).toBe(cluster.endpoints[0]);
      expect(asked.slice(1).sort()).toEqual(cluster.endpoints.slice(1).sort());
      expect(Date.now() - started).toBeGreaterThanOrEqual(MEMBER_LIST_HEDGE_MS - 50);
      // Next time it asks the member that answered first, not the frozen one: no hedge delay
      // to wait out. (On a slow machine the hedge may still ask the others after it.)
      asked.length = 0;
      await hedged.listMembers(cluster.endpoints);
      expect(asked[0]).not.toBe(cluster.endpoints[0]);
      expect(cluster.endpoints).toContain(asked[0]);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
      hedged.close();
    }
  });

  it('re-reads a reused list in the same poll when a status fails', async () => {
    await source.observe({ membersMaxAgeMs: 60_000 });
    // The cached list is now out of date (3 members; etcd has 4)...
    const added = await addLearner(source, cluster.endpoints[0]!, `http://127.${cluster.block.n}.1.10:2380`);
    // ...and a member stops answering (killed: the last test, the cluster goes after it).
    const m = cluster.members[1]!;
    process.kill(m.pid, 'SIGKILL');
    await m.exited;
    const obs = await source.observe({ membersMaxAgeMs: 60_000 });
    expect(obs.statuses.filter((s) => !s.ok).map((s) => s.endpoint)).toEqual([cluster.endpoints[1]]);
    // The poll did not trust the old list: it read it again and sees the learner.
    expect(obs.members).toHaveLength(4);
    expect(obs.membersError).toBeNull();
    await removeMember(source, cluster.endpoints[0]!, added.member.ID).catch(() => {});
  });
});
