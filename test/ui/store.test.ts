import { describe, expect, it, vi } from 'vitest';
import { COUNTER_REFRESH_MS } from '../../src/store/equal.js';
import { createConsoleStore } from '../../src/store/index.js';
import { crash, etcd, gce } from '../helpers/observations.js';
import { degraded, healthy3, NAMES, T0 } from './fixtures.js';

function polledStore() {
  let now = T0;
  const store = createConsoleStore({
    now: () => now,
    target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { store, advance, at: () => now };
}

describe('console store: unchanged polls change nothing', () => {
  it('drops an etcd poll identical but for fetch time and latency: no subscriber call, same state', () => {
    const { store, advance, at } = polledStore();
    store.getState().applyEtcd(etcd('main'), at());
    const before = store.getState();
    const listener = vi.fn();
    store.subscribe(listener);
    advance(1000);
    const again = etcd('main');
    again.fetchedAt = at();
    again.statuses = again.statuses.map((s) => ({ ...s, latencyMs: 7 }));
    store.getState().applyEtcd(again, at());
    expect(listener).not.toHaveBeenCalled();
    expect(store.getState()).toBe(before);
  });

  it('shows counter-only changes (raft index, DB size) at most every 10 s; a health change at once', () => {
    expect(COUNTER_REFRESH_MS).toBe(10_000);
    const { store, advance, at } = polledStore();
    store.getState().applyEtcd(etcd('main'), at());
    const listener = vi.fn();
    store.subscribe(listener);
    const creep = (n: number) => {
      const o = etcd('main');
      o.statuses = o.statuses.map((s) => ({
        ...s,
        raftIndex: 100 + n,
        raftAppliedIndex: 100 + n,
        dbSizeBytes: 20480 + n,
      }));
      return o;
    };
    advance(1000);
    store.getState().applyEtcd(creep(1), at());
    advance(COUNTER_REFRESH_MS - 2000);
    store.getState().applyEtcd(creep(1.5), at());
    expect(listener).not.toHaveBeenCalled();
    advance(1500);
    store.getState().applyEtcd(creep(2), at());
    expect(listener).toHaveBeenCalled();
    expect(store.getState().observations.main?.statuses[0]?.raftIndex).toBe(102);
    listener.mockClear();
    advance(1000);
    store.getState().applyEtcd(crash(creep(3), 1), at());
    expect(listener).toHaveBeenCalled();
    expect(store.getState().status?.etcd.main.healthyMembers).toBe(2);
  });

  it('drops an identical GCE poll', () => {
    const { store, at } = polledStore();
    store.getState().applyGce(gce(3), at());
    const listener = vi.fn();
    store.subscribe(listener);
    store.getState().applyGce({ ...gce(3), fetchedAt: 99 }, at() + 2000);
    expect(listener).not.toHaveBeenCalled();
  });

  it('applies a poll that changed something and re-derives the status', () => {
    const { store, at } = polledStore();
    store.getState().applyGce(gce(3), at());
    store.getState().applyEtcd(etcd('main'), at());
    const before = store.getState().status;
    const listener = vi.fn();
    store.subscribe(listener);
    store.getState().applyEtcd(crash(etcd('main'), 1), at() + 1000);
    expect(listener).toHaveBeenCalledTimes(1);
    const after = store.getState().status;
    expect(after).not.toBe(before);
    expect(after?.etcd.main.healthyVoters).toBe(2);
  });

  it('drops a status that differs only in its timestamp', () => {
    const store = createConsoleStore({ now: () => T0 });
    store.getState().applyStatus(healthy3());
    const listener = vi.fn();
    store.subscribe(listener);
    store.getState().applyStatus({ ...healthy3(), observedAt: new Date(T0 + 5000).toISOString() });
    expect(listener).not.toHaveBeenCalled();
    store.getState().applyStatus(degraded());
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('drops identical leases and repeated view actions', () => {
    const store = createConsoleStore();
    store.getState().setLeases([{ name: 'kube-scheduler', holder: 'a' }]);
    const listener = vi.fn();
    store.subscribe(listener);
    store.getState().setLeases([{ name: 'kube-scheduler', holder: 'a' }]);
    store.getState().setFilter('');
    store.getState().setView('dashboard');
    store.getState().clearMessage();
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('console store: failures and staleness', () => {
  it('keeps the last data on a failed poll, records the error once, and clears it on success', () => {
    const { store, advance, at } = polledStore();
    store.getState().applyEtcd(etcd('main'), at());
    const okAt = at();
    advance(1000);
    store.getState().sourceFailed('main', 'deadline exceeded', at());
    const s1 = store.getState();
    expect(s1.observations.main).not.toBeNull();
    expect(s1.sources.main).toMatchObject({ error: 'deadline exceeded', lastOkAt: okAt, errorAt: at() });
    expect(s1.status?.warnings.some((w) => w.code === 'ETCD_UNREACHABLE' && w.cluster === 'main')).toBe(true);
    const listener = vi.fn();
    store.subscribe(listener);
    advance(1000);
    store.getState().sourceFailed('main', 'deadline exceeded', at());
    expect(listener).not.toHaveBeenCalled();
    advance(1000);
    store.getState().applyEtcd(etcd('main'), at());
    expect(store.getState().sources.main).toEqual({
      lastOkAt: at(),
      error: null,
      errorAt: null,
      stale: false,
    });
    expect(store.getState().timeline.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        'error: etcd main: poll failed: deadline exceeded (showing the last data)',
        'etcd main answering again after 3s',
        'cleared: etcd main: poll failed: deadline exceeded (showing the last data)',
      ]),
    );
  });

  it('marks a silent source stale only after its limit, and only once', () => {
    const { store, advance, at } = polledStore();
    store.getState().applyEtcd(etcd('events'), at());
    const limits = { events: 3000 };
    advance(3000);
    store.getState().checkStaleness(at(), limits);
    expect(store.getState().sources.events.stale).toBe(false);
    advance(1);
    store.getState().checkStaleness(at(), limits);
    expect(store.getState().sources.events).toMatchObject({ stale: true, lastOkAt: T0 });
    const listener = vi.fn();
    store.subscribe(listener);
    advance(5000);
    store.getState().checkStaleness(at(), limits);
    expect(listener).not.toHaveBeenCalled();
  });

  it('counts a never-answering source from the first check', () => {
    const { store, advance, at } = polledStore();
    store.getState().checkStaleness(at(), { gce: 5000 });
    advance(4000);
    store.getState().checkStaleness(at(), { gce: 5000 });
    expect(store.getState().sources.gce.stale).toBe(false);
    advance(2000);
    store.getState().checkStaleness(at(), { gce: 5000 });
    expect(store.getState().sources.gce).toMatchObject({ stale: true, lastOkAt: null });
    expect(store.getState().status?.warnings.some((w) => w.code === 'GCE_UNREACHABLE')).toBe(true);
  });

  it('applies nothing while paused and records pause and resume', () => {
    const { store, at } = polledStore();
    store.getState().setPaused(true);
    store.getState().applyEtcd(etcd('main'), at());
    store.getState().sourceFailed('gce', 'boom', at());
    store.getState().applyStatus(healthy3(), at());
    expect(store.getState().observations.main).toBeNull();
    expect(store.getState().sources.gce.error).toBeNull();
    expect(store.getState().status).toBeNull();
    store.getState().togglePaused();
    store.getState().applyEtcd(etcd('main'), at());
    expect(store.getState().observations.main).not.toBeNull();
    expect(
      store
        .getState()
        .timeline.filter((e) => e.kind === 'session')
        .map((e) => e.message),
    ).toEqual(['updates paused (p resumes)', 'updates resumed']);
  });
});

describe('console store: selection', () => {
  it('moves by zone with left/right and through the screen order with up/down', () => {
    const store = createConsoleStore();
    store.getState().applyStatus(healthy3());
    const s = () => store.getState();
    s().moveSelection('right');
    // From no selection, the first move starts at the first replica and moves on.
    expect(s().selected).toBe(NAMES.b);
    s().moveSelection('right');
    expect(s().selected).toBe(NAMES.c);
    s().moveSelection('right');
    expect(s().selected).toBe(NAMES.c);
    s().moveSelection('up');
    expect(s().selected).toBe(NAMES.b);
    s().moveSelection('left');
    expect(s().selected).toBe(NAMES.a);
  });

  it('opens details only with a replica to show', () => {
    const store = createConsoleStore();
    store.getState().setView('detail');
    expect(store.getState().view).toBe('dashboard');
    store.getState().applyStatus(healthy3());
    store.getState().setView('detail');
    expect(store.getState()).toMatchObject({ view: 'detail', selected: NAMES.a });
  });
});
