// Simulated leader election against a real etcd, watched by LeaseWatcher.
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeLeaderRecord } from '../../src/domain/leases/decode.js';
import type { DecodedLeaderRecord } from '../../src/domain/leases/types.js';
import { buildLeaseViews } from '../../src/domain/leases/view.js';
import { type LeaderElector, startLeaderElector } from '../../src/lab/components/leader-elector.js';
import { createEtcdClient } from '../../src/sources/etcd-client.js';
import { LeaseWatcher } from '../../src/sources/leases.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

// Short timings (client-go's are 15 s / 10 s / 2 s) so the file runs in seconds.
const FAST = { leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const HOSTS = ['vm-a', 'vm-b', 'vm-c'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let cluster: TestCluster;
let client: Etcd3;
const logs: string[] = [];
const running: LeaderElector[] = [];

function elector(component: string, hostname: string, extra: Record<string, unknown> = {}): LeaderElector {
  const e = startLeaderElector({ client, component, hostname, ...FAST, log: (l) => logs.push(l), ...extra });
  running.push(e);
  return e;
}

async function record(component: string): Promise<DecodedLeaderRecord> {
  const key = `/registry/leases/kube-system/${component}`;
  const kv = (await client.get(key).exec()).kvs[0];
  if (!kv) throw new Error(`${key} missing`);
  const r = decodeLeaderRecord(key, kv.value);
  if (r.state !== 'decoded') throw new Error(JSON.stringify(r));
  return r;
}

/** Samples isLeader() for a while; fails if two candidates ever think they lead at once. */
async function assertNeverTwoLeaders(electors: LeaderElector[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    expect(electors.filter((e) => e.isLeader()).length).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  cluster = await startTestCluster(1);
  client = createEtcdClient(cluster.endpoints, { tls: null, timeoutMs: 2000 });
});

afterAll(async () => {
  await Promise.all(running.map((e) => e.stop()));
  client?.close();
  await cluster?.stop();
});

describe('leader elector', () => {
  it('three controller-managers: one leader; when it dies another takes over after the lease expires; the watcher follows', async () => {
    const component = 'kube-controller-manager';
    const watcher = new LeaseWatcher(client, { components: [component] });
    await watcher.start();
    try {
      const electors = HOSTS.map((h) => elector(component, h));
      await vi.waitFor(() => expect(electors.some((e) => e.isLeader())).toBe(true), { timeout: 5000 });
      await assertNeverTwoLeaders(electors, 1500);
      const first = electors.find((e) => e.isLeader()) as LeaderElector;
      expect(electors.filter((e) => e.isLeader())).toEqual([first]);
      expect(first.identity).toMatch(/^vm-[abc]_/);
      expect(first.identity.split('_')[1]).toMatch(UUID);
      const created = await record(component);
      expect(created.spec).toMatchObject({
        holderIdentity: first.identity,
        leaseDurationSeconds: 2,
        leaseTransitions: 0,
      });
      await vi.waitFor(() =>
        expect(watcher.snapshot()[0]?.lease?.record).toMatchObject({
          spec: { holderIdentity: first.identity },
        }),
      );

      const stoppedAt = performance.now();
      await first.stop();
      // The controller-manager does not release: the record still names it until someone takes over.
      expect((await record(component)).spec.holderIdentity).toBe(first.identity);
      const rest = electors.filter((e) => e !== first);
      // Takeover only once the lease expired on the others' clocks: within leaseDuration + a jittered retry (+ slack).
      await vi.waitFor(() => expect(rest.some((e) => e.isLeader())).toBe(true), {
        timeout: FAST.leaseDurationSeconds * 1000 + 2.2 * FAST.retryPeriodMs + 1500,
        interval: 20,
      });
      const takeoverMs = performance.now() - stoppedAt;
      // Not earlier than the lease allows (the last renewal was at most one retry period before the stop).
      expect(takeoverMs).toBeGreaterThanOrEqual(FAST.leaseDurationSeconds * 1000 - FAST.retryPeriodMs - 250);
      await assertNeverTwoLeaders(rest, 1000);
      const second = rest.find((e) => e.isLeader()) as LeaderElector;
      const taken = await record(component);
      expect(taken.spec.holderIdentity).toBe(second.identity);
      expect(taken.spec.leaseTransitions).toBe(1);
      expect(taken.spec.acquireTime).not.toBe(created.spec.acquireTime);
      // The apiserver keeps uid and creationTimestamp across updates; so does the simulation.
      expect([taken.uid, taken.creationTimestamp]).toEqual([created.uid, created.creationTimestamp]);

      await vi.waitFor(() => {
        const view = buildLeaseViews(watcher.snapshot(), { knownReplicas: HOSTS, now: Date.now() }).leases[0];
        expect(view).toMatchObject({ holderIdentity: second.identity, state: 'held', leaseTransitions: 1 });
        expect(view?.holderReplica).toBe(second.identity.split('_')[0]);
      });
      // The leader renews every retry period: the watcher sees mod_revision move within the lease duration.
      const before = watcher.snapshot()[0]?.lease?.watch?.lastChangeAt ?? 0;
      await vi.waitFor(
        () => expect(watcher.snapshot()[0]?.lease?.watch?.lastChangeAt ?? 0).toBeGreaterThan(before),
        {
          timeout: 2000,
        },
      );
      await Promise.all(rest.map((e) => e.stop()));
    } finally {
      await watcher.close();
    }
  });

  it('the scheduler releases on stop (empty holder, 1 s) and a waiting candidate takes over at once', async () => {
    const component = 'kube-scheduler';
    const a = elector(component, 'vm-a');
    await vi.waitFor(() => expect(a.isLeader()).toBe(true), { timeout: 5000 });
    await a.stop();
    expect(a.isLeader()).toBe(false);
    const released = await record(component);
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });

    const b = elector(component, 'vm-b');
    const c = elector(component, 'vm-c');
    await vi.waitFor(() => expect(b.isLeader() || c.isLeader()).toBe(true), { timeout: 5000 });
    const leader = b.isLeader() ? b : c;
    const other = leader === b ? c : b;
    await assertNeverTwoLeaders([b, c], 600);
    expect((await record(component)).spec).toMatchObject({
      holderIdentity: leader.identity,
      leaseTransitions: 1,
    });
    await leader.stop();
    // Released (no holder), so the other need not wait for the lease to expire.
    expect((await record(component)).spec).toMatchObject({ holderIdentity: '', leaseTransitions: 1 });
    await vi.waitFor(() => expect(other.isLeader()).toBe(true), { timeout: 5000, interval: 20 });
    expect((await record(component)).spec).toMatchObject({
      holderIdentity: other.identity,
      leaseTransitions: 2,
    });
    await other.stop();
  });

  it('cluster-autoscaler uses the bare hostname and releases too', async () => {
    const ca = elector('cluster-autoscaler', 'vm-c');
    expect(ca.identity).toBe('vm-c');
    await vi.waitFor(() => expect(ca.isLeader()).toBe(true), { timeout: 5000 });
    expect((await record('cluster-autoscaler')).spec.holderIdentity).toBe('vm-c');
    await ca.stop();
    expect((await record('cluster-autoscaler')).spec.holderIdentity).toBe('');
  });

  it('a crash (non-graceful stop) leaves the scheduler lease held', async () => {
    const a = elector('kube-scheduler', 'vm-b');
    await vi.waitFor(() => expect(a.isLeader()).toBe(true), { timeout: 5000 });
    await a.stop({ graceful: false });
    expect(a.isLeader()).toBe(false);
    expect((await record('kube-scheduler')).spec).toMatchObject({
      holderIdentity: a.identity,
      leaseDurationSeconds: 2,
    });
  });

  it('never overwrites a record it cannot read', async () => {
    const key = '/registry/leases/kube-system/garbled';
    await client.put(key).value('not a lease').exec();
    const e = elector('garbled', 'vm-a');
    // It read the record and declined; stopped, it wrote nothing in its whole run.
    await vi.waitFor(() => expect(logs.some((l) => /garbled .*cannot read/.test(l))).toBe(true), {
      timeout: 5000,
    });
    expect(e.isLeader()).toBe(false);
    await e.stop();
    expect((await client.get(key).string()) ?? '').toBe('not a lease');
  });

  it('keeps running without throwing while etcd is unreachable, and stops promptly', async () => {
    const dead = createEtcdClient(`http://127.${cluster.block.n}.1.250:2379`, { tls: null, timeoutMs: 200 });
    const lines: string[] = [];
    const e = startLeaderElector({
      client: dead,
      component: 'kube-scheduler',
      hostname: 'vm-x',
      ...FAST,
      log: (l) => lines.push(l),
    });
    try {
      await vi.waitFor(
        () => expect(lines.filter((l) => /etcd call failed/.test(l)).length).toBeGreaterThanOrEqual(2),
        {
          timeout: 5000,
        },
      );
      expect(e.isLeader()).toBe(false);
      await e.stop();
      const failed = lines.length;

      // Promptly: stop wakes a candidate out of its wait between attempts. This one waits ten
      // minutes after its first failure; a stop that waited that out would fail the test's timeout.
      const patient: string[] = [];
      const slow = startLeaderElector({
        client: dead,
        component: 'kube-scheduler',
        hostname: 'vm-y',
        leaseDurationSeconds: 1000,
        renewDeadlineMs: 900_000,
        retryPeriodMs: 600_000,
        callTimeoutMs: 200,
        log: (l) => patient.push(l),
      });
      await vi.waitFor(() => expect(patient.some((l) => /etcd call failed/.test(l))).toBe(true), {
        timeout: 5000,
      });
      await slow.stop();
      // Stopped means stopped: neither loop made another call.
      expect(patient.filter((l) => /etcd call failed/.test(l))).toHaveLength(1);
      expect(lines).toHaveLength(failed);
    } finally {
      dead.close();
    }
  });

  it('rejects timings that would let two leaders overlap', () => {
    const base = { client, component: 'kube-scheduler', hostname: 'vm-a' };
    expect(() =>
      startLeaderElector({ ...base, leaseDurationSeconds: 1, renewDeadlineMs: 1000, retryPeriodMs: 100 }),
    ).toThrow(RangeError);
    expect(() =>
      startLeaderElector({ ...base, leaseDurationSeconds: 2, renewDeadlineMs: 1000, retryPeriodMs: 900 }),
    ).toThrow(RangeError);
  });
});
