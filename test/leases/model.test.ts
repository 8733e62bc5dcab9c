// Holder mapping, the two staleness rules and the status view, with an injected clock.
import { describe, expect, it } from 'vitest';
import { holderReplica, parseHolderIdentity } from '../../src/domain/leases/holder.js';
import { clockRule, judgeLiveness, watchRule } from '../../src/domain/leases/staleness.js';
import type {
  ComponentLeaderRecords,
  LeaderRecord,
  LeaseSpec,
  ObservedLeaderRecord,
  WatchInfo,
} from '../../src/domain/leases/types.js';
import { buildLeaseViews, chooseRecord } from '../../src/domain/leases/view.js';

const UUID = '0e3d5b8c-1f7e-4a6f-9a51-2b3c4d5e6f70';
const REPLICAS = ['kubernetes-master', 'kubernetes-master-x7k', 'kubernetes-master-q2p'];
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

function spec(over: Partial<LeaseSpec> = {}): LeaseSpec {
  return {
    holderIdentity: `kubernetes-master-x7k_${UUID}`,
    leaseDurationSeconds: 15,
    acquireTime: iso(T0 - 60_000),
    renewTime: iso(T0),
    leaseTransitions: 2,
    strategy: null,
    preferredHolder: null,
    ...over,
  };
}

function decoded(s: LeaseSpec, source: 'lease' | 'endpoints' | 'configmap' = 'lease'): LeaderRecord {
  return {
    state: 'decoded',
    source,
    encoding: 'protobuf',
    apiVersion: source === 'lease' ? 'coordination.k8s.io/v1' : 'v1',
    kind: source === 'lease' ? 'Lease' : source === 'endpoints' ? 'Endpoints' : 'ConfigMap',
    name: 'x',
    namespace: 'kube-system',
    uid: 'u',
    creationTimestamp: null,
    spec: s,
  };
}

function obs(record: LeaderRecord, modRevision = '10', watch?: WatchInfo): ObservedLeaderRecord {
  return { key: '/registry/leases/kube-system/x', modRevision, record, ...(watch ? { watch } : {}) };
}

function component(name: string, over: Partial<ComponentLeaderRecords> = {}): ComponentLeaderRecords {
  return { component: name, lease: null, endpoints: null, configmap: null, ...over };
}

describe('holder identity', () => {
  it('splits at the last underscore only when a UUID follows', () => {
    expect(parseHolderIdentity(`kubernetes-master-x7k_${UUID}`)).toEqual({
      hostname: 'kubernetes-master-x7k',
      uuid: UUID,
    });
    expect(parseHolderIdentity(`my_host_${UUID}`)).toEqual({ hostname: 'my_host', uuid: UUID });
    expect(parseHolderIdentity('my_host')).toEqual({ hostname: 'my_host', uuid: null });
    expect(parseHolderIdentity('kubernetes-master-q2p')).toEqual({
      hostname: 'kubernetes-master-q2p',
      uuid: null,
    });
    expect(parseHolderIdentity(`_${UUID}`)).toEqual({ hostname: `_${UUID}`, uuid: null });
  });

  it('maps to a known replica exactly or by the first DNS label, else null', () => {
    expect(holderReplica(`kubernetes-master-x7k_${UUID}`, REPLICAS)).toBe('kubernetes-master-x7k');
    // cluster-autoscaler uses the bare hostname.
    expect(holderReplica('kubernetes-master-q2p', REPLICAS)).toBe('kubernetes-master-q2p');
    expect(holderReplica(`kubernetes-master-x7k.c.proj.internal_${UUID}`, REPLICAS)).toBe(
      'kubernetes-master-x7k',
    );
    expect(holderReplica('Kubernetes-Master', REPLICAS)).toBe('kubernetes-master');
    // A prefix of a replica name is not a match.
    expect(holderReplica(`kubernetes-master-x7_${UUID}`, REPLICAS)).toBeNull();
    expect(holderReplica('cluster-autoscaler-7d9f-abcde', REPLICAS)).toBeNull();
    expect(holderReplica('', REPLICAS)).toBeNull();
    expect(holderReplica(null, REPLICAS)).toBeNull();
  });
});

describe('staleness rules', () => {
  it('watched rule: stale only after a full lease duration without a change, on our clock', () => {
    const w = (lastChangeAt: number, since = T0 - 100_000): WatchInfo => ({
      since,
      lastChangeAt,
      connected: true,
    });
    expect(watchRule(w(T0 - 15_000), 15, T0).verdict).toBe('fresh');
    expect(watchRule(w(T0 - 15_001), 15, T0).verdict).toBe('stale');
    // No change seen yet and watched for less than the duration: cannot tell.
    expect(watchRule(w(T0 - 5_000, T0 - 5_000), 15, T0).verdict).toBe('unknown');
    // Watched for longer than the duration without a change: stale even if just started before.
    expect(watchRule(w(T0 - 16_000, T0 - 16_000), 15, T0).verdict).toBe('stale');
    expect(watchRule({ ...w(T0 - 60_000), connected: false }, 15, T0).verdict).toBe('unknown');
  });

  it('clock rule: renewTime older than duration + margin', () => {
    expect(clockRule(iso(T0 - 20_000), 15, T0, 5000).verdict).toBe('fresh');
    expect(clockRule(iso(T0 - 20_001), 15, T0, 5000).verdict).toBe('stale');
    expect(clockRule(iso(T0 - 16_000), 15, T0, 0).verdict).toBe('stale');
    expect(clockRule(null, 15, T0).verdict).toBe('unknown');
    // A holder whose clock runs ahead is not stale.
    expect(clockRule(iso(T0 + 30_000), 15, T0).verdict).toBe('fresh');
  });

  it('judges released, watched and clock-guessed liveness', () => {
    expect(judgeLiveness({ spec: spec({ holderIdentity: '' }), now: T0 }).state).toBe('released');
    expect(judgeLiveness({ spec: spec({ holderIdentity: null }), now: T0 }).state).toBe('released');
    // One-shot: renewTime 30 s old.
    expect(judgeLiveness({ spec: spec({ renewTime: iso(T0 - 30_000) }), now: T0 })).toMatchObject({
      state: 'stale',
      staleBy: 'clock',
    });
    // Watched and renewed recently: alive, even though the holder's clock says 30 s ago (skew).
    const recent: WatchInfo = { since: T0 - 60_000, lastChangeAt: T0 - 2_000, connected: true };
    expect(judgeLiveness({ spec: spec({ renewTime: iso(T0 - 30_000) }), watch: recent, now: T0 })).toEqual({
      state: 'held',
    });
    // Watched, not changed for 20 s although renewTime looks fresh (holder's clock ahead): stale by watch.
    const quiet: WatchInfo = { since: T0 - 60_000, lastChangeAt: T0 - 20_000, connected: true };
    expect(judgeLiveness({ spec: spec({ renewTime: iso(T0) }), watch: quiet, now: T0 })).toMatchObject({
      state: 'stale',
      staleBy: 'watch',
    });
    // Watch disconnected: falls back to the clock rule, labelled as such.
    expect(
      judgeLiveness({
        spec: spec({ renewTime: iso(T0 - 30_000) }),
        watch: { ...quiet, connected: false },
        now: T0,
      }),
    ).toMatchObject({ state: 'stale', staleBy: 'clock' });
    expect(judgeLiveness({ spec: spec({ leaseDurationSeconds: null }), now: T0 }).state).toBe('held');
  });
});

describe('lease views', () => {
  it('shows a held lease with its replica and no warnings', () => {
    const { leases, warnings } = buildLeaseViews(
      [component('kube-scheduler', { lease: obs(decoded(spec()), '42') })],
      {
        knownReplicas: REPLICAS,
        now: T0 + 1000,
      },
    );
    expect(leases).toEqual([
      {
        name: 'kube-scheduler',
        holderIdentity: `kubernetes-master-x7k_${UUID}`,
        holderReplica: 'kubernetes-master-x7k',
        leaseDurationSeconds: 15,
        acquireTime: iso(T0 - 60_000),
        renewTime: iso(T0),
        leaseTransitions: 2,
        state: 'held',
        source: 'lease',
        modRevision: '42',
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('warns about stale leases (error for core components) and unknown holders', () => {
    const now = T0 + 60_000;
    const { leases, warnings } = buildLeaseViews(
      [
        component('kube-controller-manager', { lease: obs(decoded(spec())) }),
        component('cluster-autoscaler', {
          lease: obs(decoded(spec({ holderIdentity: 'ca-pod-1', renewTime: iso(now) }))),
        }),
        component('kube-scheduler', {
          lease: obs(decoded(spec({ holderIdentity: 'stranger' })), '7', {
            since: now - 50_000,
            lastChangeAt: now - 40_000,
            connected: true,
          }),
        }),
      ],
      { knownReplicas: REPLICAS, now },
    );
    expect(leases.map((l) => [l.name, l.state, l.staleBy ?? null, l.holderReplica])).toEqual([
      ['kube-controller-manager', 'stale', 'clock', 'kubernetes-master-x7k'],
      ['cluster-autoscaler', 'held', null, null],
      ['kube-scheduler', 'stale', 'watch', null],
    ]);
    expect(warnings.map((w) => [w.code, w.severity, w.replica ?? null])).toEqual([
      ['STALE_LEASE', 'error', 'kubernetes-master-x7k'],
      ['LEASE_HOLDER_UNKNOWN', 'warning', null],
      ['STALE_LEASE', 'error', null],
      ['LEASE_HOLDER_UNKNOWN', 'warning', null],
    ]);
    expect(warnings[1]?.message).toMatch(/cluster-autoscaler.*ca-pod-1/);
    // Without replica names the holder cannot be judged unknown.
    expect(
      buildLeaseViews(
        [
          component('cluster-autoscaler', {
            lease: obs(decoded(spec({ holderIdentity: 'ca-pod-1', renewTime: iso(now) }))),
          }),
        ],
        {
          knownReplicas: [],
          now,
        },
      ).warnings,
    ).toEqual([]);
  });

  it('a Lease wins over legacy records; among legacy ones the readable, newest one wins', () => {
    const legacy = obs(decoded(spec({ holderIdentity: 'kubernetes-master-q2p' }), 'endpoints'), '99');
    const lease = obs(decoded(spec()), '50');
    expect(chooseRecord(component('k', { lease, endpoints: legacy }))).toBe(lease);
    const cm = obs(decoded(spec({ holderIdentity: 'kubernetes-master' }), 'configmap'), '120');
    expect(chooseRecord(component('k', { endpoints: legacy, configmap: cm }))).toBe(cm);
    const junk = obs({ state: 'undecodable', source: 'configmap', reason: 'bad' }, '500');
    expect(chooseRecord(component('k', { endpoints: legacy, configmap: junk }))).toBe(legacy);
    const view = buildLeaseViews([component('kube-scheduler', { endpoints: legacy })], {
      knownReplicas: REPLICAS,
      now: T0,
    });
    expect(view.leases[0]).toMatchObject({
      source: 'endpoints',
      holderReplica: 'kubernetes-master-q2p',
      state: 'held',
    });
  });

  it('reports released, missing, encrypted and undecodable records', () => {
    const { leases, warnings } = buildLeaseViews(
      [
        component('kube-scheduler', {
          lease: obs(decoded(spec({ holderIdentity: '', leaseDurationSeconds: 1 }))),
        }),
        component('cluster-autoscaler'),
        component('kube-controller-manager', {
          lease: obs({
            state: 'encrypted',
            source: 'lease',
            provider: 'aescbc',
            providerVersion: 'v1',
            keyName: 'k1',
          }),
        }),
        component('other', {
          endpoints: obs({ state: 'no-record', source: 'endpoints', reason: 'Endpoints has no annotation' }),
          configmap: obs({ state: 'undecodable', source: 'configmap', reason: 'garbage' }, '3'),
        }),
        component('none', {
          endpoints: obs({ state: 'no-record', source: 'endpoints', reason: 'no annotation here' }),
        }),
      ],
      { knownReplicas: REPLICAS, now: T0 + 3_600_000 },
    );
    expect(leases.map((l) => [l.state, l.source, l.modRevision, l.reason ?? null])).toEqual([
      ['released', 'lease', '10', 'no holder'],
      ['missing', 'lease', null, 'no Lease, Endpoints or ConfigMap record'],
      ['encrypted', 'lease', '10', 'encrypted at rest (provider aescbc, key k1)'],
      ['undecodable', 'configmap', '3', 'garbage'],
      ['missing', 'lease', null, 'no annotation here'],
    ]);
    expect(leases[0]?.holderReplica).toBeNull();
    expect(warnings).toEqual([]);
  });
});
