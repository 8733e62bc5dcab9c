// readLeaderRecords and LeaseWatcher against a real three-member etcd cluster.
import { noop } from 'cockatiel';
import { type CallContext, Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeLeaderRecord } from '../../src/domain/leases/decode.js';
import { encodeLease, encodeLegacyLeaderObject } from '../../src/domain/leases/encode.js';
import type { LeaseSpec } from '../../src/domain/leases/types.js';
import { buildLeaseViews } from '../../src/domain/leases/view.js';
import { seedNodeLeases } from '../../src/lab/components/leader-elector.js';
import { type RunningEtcd, startEtcd, stopEtcd } from '../../src/lab/etcd-process.js';
import { createEtcdClient } from '../../src/sources/etcd-client.js';
import { LeaseWatcher, leaderRecordKeys, readLeaderRecords } from '../../src/sources/leases.js';
import { startTestCluster, type TestCluster, waitForHealth } from '../helpers/etcd-cluster.js';
import { FIXTURE_SPEC, fixture, V1_LEASE } from './fixtures.js';

const SCHED = '/registry/leases/kube-system/kube-scheduler';
const COMPONENTS = ['kube-controller-manager', 'kube-scheduler', 'cluster-autoscaler'];

function leaseBytes(holder: string, renewMs: number, duration = 15): Buffer {
  const t = new Date(renewMs).toISOString().replace('Z', '000Z');
  const spec: LeaseSpec = {
    holderIdentity: holder,
    leaseDurationSeconds: duration,
    acquireTime: t,
    renewTime: t,
    leaseTransitions: 1,
    strategy: null,
    preferredHolder: null,
  };
  return Buffer.from(
    encodeLease({
      name: 'kube-scheduler',
      namespace: 'kube-system',
      uid: 'u',
      creationTimestamp: '2025-01-01T00:00:00Z',
      spec,
    }),
  );
}

let cluster: TestCluster;
let client: Etcd3;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  client = createEtcdClient(cluster.endpoints, { tls: null, timeoutMs: 3000 });
});

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

describe('readLeaderRecords', () => {
  it('reports the Kubernetes fixture stored at the kube-scheduler key with its real fields', async () => {
    const put = await client
      .put(SCHED)
      .value(Buffer.from(fixture(V1_LEASE)))
      .exec();
    const legacySpec: LeaseSpec = {
      ...FIXTURE_SPEC,
      holderIdentity: 'vm-b',
      strategy: null,
      preferredHolder: null,
    };
    await client
      .put('/registry/services/endpoints/kube-system/kube-controller-manager')
      .value(
        Buffer.from(
          encodeLegacyLeaderObject(
            'Endpoints',
            {
              name: 'kube-controller-manager',
              namespace: 'kube-system',
              uid: 'e',
              creationTimestamp: '2019-01-01T00:00:00Z',
            },
            legacySpec,
          ),
        ),
      )
      .exec();
    await client
      .put('/registry/configmaps/kube-system/cluster-autoscaler')
      .value(Buffer.from('k8s:enc:aesgcm:v1:key2:\x00\x01ciphertext'))
      .exec();

    const records = await readLeaderRecords(client);
    expect(records.map((r) => r.component)).toEqual(COMPONENTS);
    const sched = records[1];
    expect(sched?.lease).toEqual({
      key: SCHED,
      modRevision: String(put.header.revision),
      record: {
        state: 'decoded',
        source: 'lease',
        encoding: 'protobuf',
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: 'nameValue',
        namespace: 'namespaceValue',
        uid: 'uidValue',
        creationTimestamp: '2008-01-01T01:01:01Z',
        spec: FIXTURE_SPEC,
      },
    });
    expect(sched?.endpoints).toBeNull();
    expect(sched?.configmap).toBeNull();
    expect(records[0]?.lease).toBeNull();
    expect(records[0]?.endpoints?.record).toMatchObject({
      state: 'decoded',
      source: 'endpoints',
      spec: { holderIdentity: 'vm-b' },
    });
    expect(records[2]?.configmap?.record).toMatchObject({
      state: 'encrypted',
      provider: 'aesgcm',
      keyName: 'key2',
    });

    const { leases } = buildLeaseViews(records, { knownReplicas: [], now: Date.now() });
    expect(leases.map((l) => [l.name, l.state, l.source, l.staleBy ?? null])).toEqual([
      ['kube-controller-manager', 'stale', 'endpoints', 'clock'],
      ['kube-scheduler', 'stale', 'lease', 'clock'],
      ['cluster-autoscaler', 'encrypted', 'configmap', null],
    ]);
    expect(leases[1]).toMatchObject({
      holderIdentity: 'holderIdentityValue',
      leaseDurationSeconds: 2,
      acquireTime: '2003-01-01T01:01:01.000003Z',
      renewTime: '2004-01-01T01:01:01.000004Z',
      leaseTransitions: 5,
    });
  });

  it('reads only the exact keys, never a range, with 2,000 node leases present', async () => {
    await seedNodeLeases(client, 2000);
    expect(await client.getAll().prefix('/registry/leases/kube-node-lease/').count()).toBe(2000);

    // Record every request the client sends: the call-options hook sees each one's parameters.
    const calls: CallContext[] = [];
    const recording = new Etcd3({
      hosts: cluster.endpoints,
      defaultCallOptions: (ctx) => {
        calls.push(ctx);
        return ctx.isStream ? {} : { deadline: Date.now() + 3000 };
      },
      faultHandling: { host: () => noop, global: noop },
    });
    try {
      const records = await readLeaderRecords(recording);
      expect(records.map((r) => r.component)).toEqual(COMPONENTS);
      expect(records[1]?.lease?.record).toMatchObject({
        state: 'decoded',
        spec: { holderIdentity: 'holderIdentityValue' },
      });
      const ranges = calls.flatMap((c) => {
        if (c.service === 'KV' && c.method === 'range') return [c.params];
        if (c.service === 'KV' && c.method === 'txn') {
          expect(c.params.compare ?? []).toEqual([]);
          return (c.params.success ?? []).flatMap((op) => {
            expect(op.request_put ?? op.request_delete_range ?? op.request_txn).toBeUndefined();
            return op.request_range ? [op.request_range] : [];
          });
        }
        throw new Error(`unexpected call ${c.service}.${c.method}`);
      });
      const expectedKeys = COMPONENTS.flatMap((c) => Object.values(leaderRecordKeys('/registry', c))).sort();
      expect(ranges.map((r) => r.key?.toString()).sort()).toEqual(expectedKeys);
      for (const r of ranges) expect(r.range_end === undefined || r.range_end.length === 0).toBe(true);
    } finally {
      recording.close();
    }
  });

  it('honours another prefix', async () => {
    await client.put('/other/leases/kube-system/kube-scheduler').value(leaseBytes('vm-z', Date.now())).exec();
    const records = await readLeaderRecords(client, '/other/', ['kube-scheduler']);
    expect(records).toHaveLength(1);
    expect(records[0]?.lease?.key).toBe('/other/leases/kube-system/kube-scheduler');
    expect(records[0]?.lease?.record).toMatchObject({ spec: { holderIdentity: 'vm-z' } });
  });
});

describe('LeaseWatcher', () => {
  let restarted: RunningEtcd | null = null;

  it("a watcher taking over on another member keeps its predecessor's times for records that did not change", async () => {
    // Its own prefix: the other tests read the scheduler's record at the default one.
    const KEY = '/handover/leases/kube-system/kube-scheduler';
    let clock = Date.now();
    const a = createEtcdClient(cluster.endpoints[0] as string, { tls: null, timeoutMs: 3000 });
    const b = createEtcdClient(cluster.endpoints[1] as string, { tls: null, timeoutMs: 3000 });
    const first = new LeaseWatcher(a, { prefix: '/handover/', now: () => clock });
    let second: LeaseWatcher | null = null;
    try {
      await b.put(KEY).value(leaseBytes('vm-a', clock)).exec();
      await first.start();
      const since = clock;
      clock += 3000;
      const put = await b.put(KEY).value(leaseBytes('vm-a', clock)).exec();
      await vi.waitFor(() =>
        expect(first.snapshot()[1]?.lease?.modRevision).toBe(String(put.header.revision)),
      );
      const renewedAt = clock;
      // The first watcher's member is lost; a new watcher starts 4 s later on another.
      clock += 4000;
      second = new LeaseWatcher(b, { prefix: '/handover/', now: () => clock, history: first.history() });
      await second.start();
      // The scheduler's record did not change: the last renewal is still 4 s old, not new.
      expect(second.snapshot()[1]?.lease?.watch).toMatchObject({ since, lastChangeAt: renewedAt });
      // Without the history, a new watcher knows nothing of it.
      const fresh = new LeaseWatcher(b, { prefix: '/handover/', now: () => clock });
      await fresh.start();
      expect(fresh.snapshot()[1]?.lease?.watch).toMatchObject({ since: clock, lastChangeAt: clock });
      await fresh.close();
    } finally {
      await first.close();
      await second?.close();
      a.close();
      b.close();
    }
  });

  afterAll(async () => {
    if (restarted) await stopEtcd(restarted);
  });

  it('follows changes on its own clock and survives a restart of its member without losing a write', async () => {
    const start = Date.now();
    let clock = start;
    const changes: number[] = [];
    const errors: string[] = [];
    // Watch through member 0 only, so that restarting it really cuts the watch.
    const watchClient = createEtcdClient(cluster.endpoints[0] as string, { tls: null, timeoutMs: 3000 });
    const writer = createEtcdClient(cluster.endpoints[1] as string, { tls: null, timeoutMs: 3000 });
    const watcher = new LeaseWatcher(watchClient, {
      now: () => clock,
      onChange: () => changes.push(clock),
      onError: (m) => errors.push(m),
    });
    try {
      await watcher.start();
      expect(watcher.connected()).toBe(true);
      let sched = watcher.snapshot()[1]?.lease;
      expect(sched?.record).toEqual(decodeLeaderRecord(SCHED, fixture(V1_LEASE)));
      expect(sched?.watch).toEqual({ since: clock, lastChangeAt: clock, connected: true });

      clock += 5000;
      const put = await writer.put(SCHED).value(leaseBytes('vm-a', clock)).exec();
      await vi.waitFor(() =>
        expect(watcher.snapshot()[1]?.lease?.modRevision).toBe(String(put.header.revision)),
      );
      sched = watcher.snapshot()[1]?.lease;
      expect(sched?.record).toMatchObject({ spec: { holderIdentity: 'vm-a' } });
      expect(sched?.watch).toEqual({ since: start, lastChangeAt: clock, connected: true });
      expect(changes).toContain(clock);
      const at = (now: number) =>
        buildLeaseViews(watcher.snapshot(), { knownReplicas: ['vm-a', 'vm-b'], now }).leases[1];
      expect(at(clock + 1000)).toMatchObject({ state: 'held', holderReplica: 'vm-a' });
      expect(at(clock + 15_001)).toMatchObject({ state: 'stale', staleBy: 'watch' });

      // Restart member 0; write through member 1 while it is down.
      const m0 = cluster.members[0] as RunningEtcd;
      await stopEtcd(m0);
      await vi.waitFor(() => expect(watcher.connected()).toBe(false), { timeout: 10_000 });
      // While disconnected, the watch cannot vouch for anything: the view falls back to the clock rule
      // (renewTime was written as `clock`; 15 s lease + 5 s margin).
      expect(at(clock + 15_001)).toMatchObject({ state: 'held' });
      expect(at(clock + 20_001)).toMatchObject({ state: 'stale', staleBy: 'clock' });
      clock += 5000;
      const whileDown = await writer.put(SCHED).value(leaseBytes('vm-b', clock)).exec();
      restarted = startEtcd(m0.spec);
      await waitForHealth(cluster.endpoints[0] as string);
      await vi.waitFor(
        () => {
          expect(watcher.connected()).toBe(true);
          expect(watcher.snapshot()[1]?.lease?.modRevision).toBe(String(whileDown.header.revision));
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(watcher.snapshot()[1]?.lease?.record).toMatchObject({ spec: { holderIdentity: 'vm-b' } });
      expect(errors.some((e) => /disconnected/.test(e))).toBe(true);

      await writer.delete().key(SCHED).exec();
      await vi.waitFor(() => expect(watcher.snapshot()[1]?.lease).toBeNull());
    } finally {
      await watcher.close();
      watchClient.close();
      writer.close();
    }
  });
});
