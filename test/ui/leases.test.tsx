// The leader leases in the console: the slot built from watched records, its
// timeline entries, the store action, the panel and the badges on the cards.
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  ComponentLeaderRecords,
  DecodedLeaderRecord,
  LeaseSpec,
  WatchInfo,
} from '../../src/domain/leases/types.js';
import { buildLeasesSlot, diffLeases, type LeasesSlot } from '../../src/store/leases.js';
import { degraded, healthy3, NAMES, T0 } from './fixtures.js';
import { app, renderApp, renderSized, storeWith, width } from './harness.js';

afterEach(() => cleanup());

const KCM = 'kube-controller-manager';
const SCHED = 'kube-scheduler';
const CA = 'cluster-autoscaler';
const UUID1 = '0b1c7f6e-3c1d-4a52-9d8e-0f6a2b7c9d11';
const UUID2 = '5e2d9a40-7b8c-4f1e-a3d2-6c9b0e1f2a33';

function spec(holder: string, over: Partial<LeaseSpec> = {}): LeaseSpec {
  return {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-28T11:50:00.000000Z',
    renewTime: new Date(T0).toISOString().replace('Z', '000Z'),
    leaseTransitions: 2,
    strategy: null,
    preferredHolder: null,
    ...over,
  };
}

function lease(component: string, s: LeaseSpec, watch: WatchInfo, rev = '100'): ComponentLeaderRecords {
  const record: DecodedLeaderRecord = {
    state: 'decoded',
    source: 'lease',
    encoding: 'protobuf',
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    name: component,
    namespace: 'kube-system',
    uid: 'u',
    creationTimestamp: null,
    spec: s,
  };
  return {
    component,
    lease: { key: `/registry/leases/kube-system/${component}`, modRevision: rev, record, watch },
    endpoints: null,
    configmap: null,
  };
}

const missing = (component: string): ComponentLeaderRecords => ({
  component,
  lease: null,
  endpoints: null,
  configmap: null,
});

const KNOWN = Object.values(NAMES);

/** Watched since T0 - 60 s; last change `quietMs` before `now`. */
function watched(now: number, quietMs: number): WatchInfo {
  return { since: T0 - 60_000, lastChangeAt: now - quietMs, connected: true };
}

function slotAt(now: number, records: ComponentLeaderRecords[], watching = true): LeasesSlot {
  return buildLeasesSlot({ records, watching, error: null, now }, KNOWN);
}

const healthySlot = (now = T0) =>
  slotAt(now, [
    lease(KCM, spec(`${NAMES.b}_${UUID1}`), watched(now, 800)),
    lease(SCHED, spec(`${NAMES.b}_${UUID2}`), watched(now, 1500)),
    lease(CA, spec(NAMES.c, { leaseTransitions: 0 }), watched(now, 300)),
  ]);

describe('lease slot', () => {
  it('maps holders to replicas and says "renewed within" while leaders are on time', () => {
    const s = healthySlot();
    expect(s.items.map((i) => [i.name, i.state, i.holderReplica, i.judgedBy])).toEqual([
      [KCM, 'held', NAMES.b, 'watch'],
      [SCHED, 'held', NAMES.b, 'watch'],
      [CA, 'held', NAMES.c, 'watch'],
    ]);
    // A third of 15 s: the same slot for any renewal inside it, so a healthy cluster redraws nothing.
    expect(s.items.map((i) => i.renew)).toEqual([
      { fresh: true, withinS: 5 },
      { fresh: true, withinS: 5 },
      { fresh: true, withinS: 5 },
    ]);
    expect(healthySlot(T0 + 2000)).toEqual(s);
  });

  it('a late leader shows its age; past the lease duration it is stale by the watch rule', () => {
    const late = slotAt(T0, [lease(KCM, spec(`${NAMES.b}_${UUID1}`), watched(T0, 7400))]);
    expect(late.items[0]).toMatchObject({ state: 'held', renew: { fresh: false, ageS: 7 } });
    const dead = slotAt(T0, [lease(KCM, spec(`${NAMES.b}_${UUID1}`), watched(T0, 16_000))]);
    expect(dead.items[0]).toMatchObject({
      state: 'stale',
      judgedBy: 'watch',
      renew: { fresh: false, ageS: 16 },
    });
    expect(dead.items[0]?.reason).toMatch(/not renewed for 16 s while watched/);
  });

  it('released, missing and an unknown holder', () => {
    const s = slotAt(T0, [
      lease(SCHED, spec('', { leaseDurationSeconds: 1 }), watched(T0, 500)),
      missing(CA),
      lease(KCM, spec(`bastion_${UUID1}`), watched(T0, 500)),
    ]);
    expect(s.items.map((i) => [i.state, i.holderReplica, i.renew])).toEqual([
      ['released', null, null],
      ['missing', null, null],
      ['held', null, { fresh: true, withinS: 5 }],
    ]);
  });
});

describe('lease timeline', () => {
  it('a baseline, then a move with its transitions, a leader going stale, and one coming back', () => {
    const first = healthySlot();
    expect(diffLeases(null, first, T0)).toEqual([
      expect.objectContaining({
        kind: 'lease',
        severity: 'info',
        message: `leases: ${KCM} held by ${NAMES.b}; ${SCHED} held by ${NAMES.b}; ${CA} held by ${NAMES.c}`,
      }),
    ]);
    expect(diffLeases(first, healthySlot(T0 + 1000), T0 + 1000)).toEqual([]);

    const stale = slotAt(T0 + 20_000, [
      lease(KCM, spec(`${NAMES.b}_${UUID1}`), watched(T0 + 20_000, 16_000)),
      lease(SCHED, spec(`${NAMES.b}_${UUID2}`), watched(T0 + 20_000, 1000)),
      lease(CA, spec(NAMES.c, { leaseTransitions: 0 }), watched(T0 + 20_000, 300)),
    ]);
    const goneStale = diffLeases(first, stale, T0 + 20_000);
    expect(goneStale).toHaveLength(1);
    expect(goneStale[0]).toMatchObject({ severity: 'error', replica: NAMES.b });
    expect(goneStale[0]?.message).toMatch(
      new RegExp(`^${KCM}: leader ${NAMES.b} stopped renewing \\(not renewed`),
    );

    const moved = slotAt(T0 + 21_000, [
      lease(KCM, spec(`${NAMES.a}_${UUID2}`, { leaseTransitions: 3 }), watched(T0 + 21_000, 100), '130'),
      lease(SCHED, spec(`${NAMES.b}_${UUID2}`), watched(T0 + 21_000, 1000)),
      lease(CA, spec(NAMES.c, { leaseTransitions: 0 }), watched(T0 + 21_000, 300)),
    ]);
    expect(diffLeases(stale, moved, T0 + 21_000)).toEqual([
      {
        at: T0 + 21_000,
        kind: 'lease',
        severity: 'warning',
        replica: NAMES.a,
        // From the last renewal the watch saw (T0 + 4 s) to the new holder's acquire.
        message: `${KCM}: leader moved ${NAMES.b} -> ${NAMES.a} (transitions 3); leaderless 17 s (${NAMES.b}'s last renewal 17 s before, 2 s after its lease expired)`,
      },
    ]);
  });

  it('a lease taken after a release says how long it was released', () => {
    const released = slotAt(T0 + 5000, [
      lease(KCM, spec('', { leaseTransitions: 2 }), watched(T0 + 5000, 3000)),
    ]);
    expect(released.items[0]).toMatchObject({ state: 'released', lastRenewAt: T0 + 2000 });
    const taken = slotAt(T0 + 6000, [
      lease(KCM, spec(`${NAMES.a}_${UUID1}`, { leaseTransitions: 3 }), watched(T0 + 6000, 10)),
    ]);
    expect(diffLeases(released, taken, T0 + 6000).map((e) => e.message)).toEqual([
      `${KCM}: leader is ${NAMES.a} (transitions 3); leaderless 4 s since it was released`,
    ]);
  });

  it('a restarted process on the same replica is named by identity, not "a -> a"', () => {
    const before = slotAt(T0, [lease(KCM, spec(`${NAMES.a}_${UUID1}`), watched(T0, 100))]);
    const after = slotAt(T0, [lease(KCM, spec(`${NAMES.a}_${UUID2}`), watched(T0, 100))]);
    expect(diffLeases(before, after, T0)[0]?.message).toBe(
      `${KCM}: leader moved ${NAMES.a}_${UUID1} -> ${NAMES.a}_${UUID2} (transitions 2)`,
    );
  });

  it('an unreadable etcd is said once, and its recovery too', () => {
    const down: LeasesSlot = { items: [], watching: false, error: 'leases not read: connection refused' };
    const events = diffLeases(null, down, T0);
    expect(events.map((e) => [e.severity, e.message])).toEqual([
      ['warning', 'leases: leases not read: connection refused'],
    ]);
    expect(diffLeases(down, down, T0)).toEqual([]);
    expect(diffLeases(down, healthySlot(), T0).map((e) => e.message)).toEqual([
      'leases: watching again',
      expect.stringMatching(/^leases: kube-controller-manager held by/),
    ]);
  });
});

describe('store: applyLeases', () => {
  it('drops identical slots (no redraw on a renewal), records changes, ignores updates while paused', () => {
    const store = storeWith(healthy3());
    store.getState().applyLeases(healthySlot(), T0);
    const n = store.getState().timeline.length;
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.getState().applyLeases(healthySlot(T0 + 1500), T0 + 1500);
    expect(listener).not.toHaveBeenCalled();
    store.getState().setPaused(true);
    listener.mockClear();
    const moved = slotAt(T0 + 30_000, [lease(KCM, spec(`${NAMES.a}_${UUID2}`), watched(T0 + 30_000, 100))]);
    store.getState().applyLeases(moved, T0 + 30_000);
    expect(listener).not.toHaveBeenCalled();
    store.getState().setPaused(false);
    store.getState().applyLeases(moved, T0 + 31_000);
    unsubscribe();
    const kinds = store
      .getState()
      .timeline.slice(n)
      .map((e) => [e.kind, e.message]);
    expect(kinds).toContainEqual(['lease', `${KCM}: leader moved ${NAMES.b} -> ${NAMES.a} (transitions 2)`]);
  });
});

describe('lease panel and badges', () => {
  it('shows every lease with holder, renew age, transitions and state, and badges the holders', () => {
    const store = storeWith(healthy3());
    store.getState().applyLeases(healthySlot(), T0);
    const text = renderApp(store).text();
    expect(text).toContain(
      "Leader leases (watched; alive = renewed within the lease duration on this machine's clock)",
    );
    expect(text).toMatch(new RegExp(`${KCM} +★ ${NAMES.b} +held renewed <5s ago · 2 transitions`));
    expect(text).toMatch(new RegExp(`${SCHED} +★ ${NAMES.b} +held renewed <5s ago · 2 transitions`));
    expect(text).toMatch(new RegExp(`${CA} +★ ${NAMES.c} +held renewed <5s ago · 0 transitions`));
    // Badges inside the holders' cards (zones side by side: b's and c's columns).
    expect(text).toMatch(/│leads kcm sched +│/);
    expect(text).toMatch(/│leads ca +│/);
    // The timeline's first lease entry.
    expect(text).toContain(`leases: ${KCM} held by ${NAMES.b}`);
  });

  it('a stale leader is red words, not only colour: STALE, its age, and a marked badge', () => {
    const store = storeWith(healthy3());
    const now = T0 + 20_000;
    store
      .getState()
      .applyLeases(
        slotAt(now, [
          lease(KCM, spec(`${NAMES.b}_${UUID1}`), watched(now, 16_000)),
          lease(SCHED, spec(`${NAMES.b}_${UUID2}`), watched(now, 1000)),
          missing(CA),
        ]),
        now,
      );
    const text = renderApp(store).text();
    expect(text).toMatch(new RegExp(`${KCM} +★ ${NAMES.b} +STALE not renewed for 16s`));
    expect(text).toMatch(new RegExp(`${CA} +- +MISSING: no Lease, Endpoints or ConfigMap record`));
    expect(text).toMatch(/leads kcm▲ sched/);
  });

  it('a lease held by a replica that is down says so, and when it expires, then who takes it', () => {
    // degraded(): NAMES.a's etcd members are unreachable while its VM runs.
    const store = storeWith(degraded());
    const now = T0 + 6000;
    store
      .getState()
      .applyLeases(
        slotAt(now, [
          lease(KCM, spec(`${NAMES.a}_${UUID1}`), watched(now, 6000)),
          lease(SCHED, spec(`${NAMES.b}_${UUID2}`), watched(now, 1000)),
          lease(CA, spec(NAMES.a), watched(now, 1000)),
        ]),
        now,
      );
    // Short of rows the panel folds to one line, which still says it.
    expect(renderApp(store).text()).toMatch(
      new RegExp(`^Leases kcm ${NAMES.a} DOWN 9s · sched ${NAMES.b} · ca ${NAMES.a} DOWN <15s$`, 'm'),
    );
    const r = renderSized(app(store), 160, 50);
    const text = r.text();
    r.unmount();
    expect(text).toContain(
      `${KCM} ✖ held by ${NAMES.a}, which is down (its etcd members are unreachable) — expires in 9 s, then another replica takes it`,
    );
    // Renewed moments ago as far as the watch knows: the expiry is at most the lease duration.
    expect(text).toMatch(new RegExp(`${CA} +✖ held by ${NAMES.a}, which is down .* expires in ≤15 s`));
    // A holder that is up reads as before.
    expect(text).toMatch(new RegExp(`${SCHED} +★ ${NAMES.b} +held renewed <5s ago`));
  });

  it('on a short terminal the panel takes what is left after the warnings, and nothing overflows', async () => {
    const store = storeWith(healthy3());
    store.getState().applyLeases(healthySlot(), T0);
    const r = renderSized(app(store), 80, 24);
    try {
      const lines = r.text().split('\n');
      expect(lines.length).toBeLessThanOrEqual(23);
      for (const l of lines) expect(width(l)).toBeLessThanOrEqual(80);
      expect(r.text()).toContain('Leader leases');
      expect(r.text()).toContain(KCM);
      r.resize(60, 16);
      // Short: the cards give up detail first, then the panel shrinks to what fits.
      await vi.waitFor(() => {
        const small = r.text().split('\n');
        expect(small.length).toBeLessThanOrEqual(15);
        for (const l of small) expect(width(l)).toBeLessThanOrEqual(60);
        // Folded into one line, replicas by their suffix where needed: no lease is hidden.
        expect(r.text()).toMatch(/^Leases kcm x7k · sched x7k · ca kubernetes-master-q2p$/m);
      });
    } finally {
      r.unmount();
    }
  });
});
