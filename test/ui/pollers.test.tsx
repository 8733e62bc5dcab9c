import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EtcdClusterName, EtcdObservation, GceObservation } from '../../src/domain/types.js';
import { gceIntervalMs, type ObservationSources, startPollers } from '../../src/pollers/index.js';
import { createConsoleStore } from '../../src/store/index.js';
import { etcd, gce } from '../helpers/observations.js';
import { app, renderSized } from './harness.js';

const never = <T,>() => new Promise<T>(() => {});

/** Sources that count calls; each may be told to hang or fail. */
function fakeSources() {
  const calls = { gce: 0, main: 0, events: 0 };
  const behaviour: Record<'gce' | EtcdClusterName, 'ok' | 'hang' | 'fail'> = {
    gce: 'ok',
    main: 'ok',
    events: 'ok',
  };
  const sources: ObservationSources = {
    observeGce: () => {
      calls.gce++;
      if (behaviour.gce === 'hang') return never<GceObservation>();
      if (behaviour.gce === 'fail') return Promise.reject(new Error('permission denied'));
      return Promise.resolve({ ...gce(3), fetchedAt: Date.now() });
    },
    observeEtcd: (cluster) => {
      calls[cluster]++;
      if (behaviour[cluster] === 'hang') return never<EtcdObservation>();
      if (behaviour[cluster] === 'fail') return Promise.reject(new Error('connection refused'));
      return Promise.resolve({ ...etcd(cluster), fetchedAt: Date.now() });
    },
  };
  return { sources, calls, behaviour };
}

function newStore() {
  return createConsoleStore({
    target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
  });
}

describe('startPollers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls GCE every --refresh seconds (default 2, floor 1) and etcd every second', async () => {
    expect(gceIntervalMs(undefined)).toBe(2000);
    expect(gceIntervalMs(0.2)).toBe(1000);
    expect(gceIntervalMs(5)).toBe(5000);
    const { sources, calls } = fakeSources();
    const pollers = startPollers(newStore(), sources);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual({ gce: 1, main: 1, events: 1 });
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls).toEqual({ gce: 3, main: 5, events: 5 });
    pollers.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual({ gce: 3, main: 5, events: 5 });
  });

  it('keeps polling the others while one source never answers, and never overlaps the hung one', async () => {
    const { sources, calls, behaviour } = fakeSources();
    behaviour.main = 'hang';
    const store = newStore();
    const pollers = startPollers(store, sources, { timeoutMs: { main: 60_000 } });
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.main).toBe(1);
    expect(calls.events).toBe(6);
    expect(calls.gce).toBe(3);
    expect(store.getState().observations.events).not.toBeNull();
    expect(store.getState().observations.gce).not.toBeNull();
    expect(store.getState().sources.main).toMatchObject({ stale: true, lastOkAt: null, error: null });
    pollers.stop();
  });

  it('gives up on a hung poll at its timeout, records why, and polls again', async () => {
    const { sources, calls, behaviour } = fakeSources();
    behaviour.events = 'hang';
    const store = newStore();
    const pollers = startPollers(store, sources, {
      poll: { gce: false, main: false },
      timeoutMs: { events: 2000 },
    });
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.getState().sources.events.error).toBe('no answer within 2s');
    await vi.advanceTimersByTimeAsync(10);
    expect(calls.events).toBe(2);
    behaviour.events = 'ok';
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.getState().sources.events.error).toBeNull();
    expect(calls).toMatchObject({ gce: 0, main: 0 });
    pollers.stop();
  });

  it('records a failing poll as the source error', async () => {
    const { sources, behaviour } = fakeSources();
    behaviour.gce = 'fail';
    const store = newStore();
    const pollers = startPollers(store, sources, { poll: { main: false, events: false } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().sources.gce.error).toBe('permission denied');
    expect(store.getState().status?.warnings.map((w) => w.message)).toContain(
      'Compute API: permission denied',
    );
    pollers.stop();
  });

  it('refreshes every source at once on refreshNow, and polls a busy source again as soon as it answers', async () => {
    const { sources, calls } = fakeSources();
    let release: (obs: EtcdObservation) => void = () => {};
    const observeEtcd = sources.observeEtcd;
    sources.observeEtcd = (cluster, opts) => {
      if (cluster !== 'main' || calls.main > 0) return observeEtcd(cluster, opts);
      calls.main++;
      return new Promise((resolve) => {
        release = resolve;
      });
    };
    const pollers = startPollers(newStore(), sources, { timeoutMs: { main: 60_000 } });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual({ gce: 1, main: 1, events: 1 });
    pollers.refreshNow();
    await vi.advanceTimersByTimeAsync(0);
    // GCE's next poll was 1.9 s away, events' 0.9 s: both ran now; main is still busy.
    expect(calls).toEqual({ gce: 2, main: 1, events: 2 });
    release(etcd('main'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.main).toBe(2);
    pollers.stop();
  });

  it('asks etcd for fresh membership only on refreshNow, not on its timer', async () => {
    const { sources } = fakeSources();
    const fresh: boolean[] = [];
    const observeEtcd = sources.observeEtcd;
    sources.observeEtcd = (cluster, opts) => {
      if (cluster === 'events') fresh.push(opts.fresh);
      return observeEtcd(cluster, opts);
    };
    const pollers = startPollers(newStore(), sources);
    await vi.advanceTimersByTimeAsync(2500);
    expect(fresh).toEqual([false, false, false]);
    pollers.refreshNow();
    await vi.advanceTimersByTimeAsync(1100);
    expect(fresh).toEqual([false, false, false, true, false]);
    pollers.stop();
  });

  it('does not poll while paused, and polls at once on resume', async () => {
    const { sources, calls } = fakeSources();
    const store = newStore();
    const pollers = startPollers(store, sources);
    await vi.advanceTimersByTimeAsync(500);
    store.getState().setPaused(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toEqual({ gce: 1, main: 1, events: 1 });
    store.getState().setPaused(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual({ gce: 2, main: 2, events: 2 });
    pollers.stop();
  });

  it('shows a stale source on screen with its age and error, ticking', async () => {
    const { sources, behaviour } = fakeSources();
    const store = newStore();
    const pollers = startPollers(store, sources, { timeoutMs: { main: 60_000 } });
    await vi.advanceTimersByTimeAsync(0);
    behaviour.main = 'hang';
    const ui = renderSized(app(store, { clock: Date.now }), 100, 30);
    await vi.advanceTimersByTimeAsync(5000);
    await vi.waitFor(() => {
      expect(ui.text()).toContain('etcd main not answering, last answer 5s ago');
      expect(ui.text()).toContain('main   3/3 healthy · quorum 2 · tolerates 1 failure · STALE 5s · leader');
    });
    await vi.advanceTimersByTimeAsync(2000);
    await vi.waitFor(() => expect(ui.text()).toContain('etcd main not answering, last answer 7s ago'));
    behaviour.events = 'fail';
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() =>
      expect(ui.text()).toMatch(/etcd events failing, last answer \ds ago: connection refused/),
    );
    ui.unmount();
    pollers.stop();
  });
});
