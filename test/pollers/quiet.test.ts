// The console's quiet cadence (issue 12): sources polled less often while
// nothing happens, back to their active intervals on any news, key or
// trouble. Real pollers and store, fake sources, fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EtcdClusterName, EtcdObservation } from '../../src/domain/types.js';
import { CONSOLE_QUIET, type ObservationSources, startPollers } from '../../src/pollers/index.js';
import { createConsoleStore } from '../../src/store/index.js';
import { crash, etcd, gce } from '../helpers/observations.js';

function fakeSources() {
  const calls: { at: number; what: 'gce' | EtcdClusterName | 'apiservers'; lbMaxAgeMs?: number }[] = [];
  const main: { obs: EtcdObservation } = { obs: etcd('main') };
  const sources: ObservationSources = {
    observeGce: (opts) => {
      calls.push({ at: Date.now(), what: 'gce', lbMaxAgeMs: opts?.lbMaxAgeMs ?? 0 });
      return Promise.resolve({ ...gce(3), fetchedAt: Date.now() });
    },
    observeEtcd: (cluster) => {
      calls.push({ at: Date.now(), what: cluster });
      return Promise.resolve({ ...(cluster === 'main' ? main.obs : etcd(cluster)), fetchedAt: Date.now() });
    },
    probeApiservers: async () => {
      calls.push({ at: Date.now(), what: 'apiservers' });
      return [];
    },
  };
  return { sources, calls, main };
}

const newStore = () =>
  createConsoleStore({
    target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
  });

/** Calls of one source between two instants. */
const between = (calls: ReturnType<typeof fakeSources>['calls'], what: string, from: number, to: number) =>
  calls.filter((c) => c.what === what && c.at >= from && c.at < to);

describe('quiet cadence', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls every source less often once nothing happened for a while, the load balancer less still', async () => {
    const { sources, calls } = fakeSources();
    const pollers = startPollers(newStore(), sources, { quiet: CONSOLE_QUIET });
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(CONSOLE_QUIET.afterMs + 20_000);
    const quietFrom = t0 + CONSOLE_QUIET.afterMs + 2000;
    const end = Date.now();
    // Active: every second; quiet: every 2 s.
    expect(between(calls, 'main', t0 + 2000, t0 + 7000)).toHaveLength(5);
    expect(between(calls, 'main', quietFrom, quietFrom + 18_000)).toHaveLength(9);
    expect(between(calls, 'events', quietFrom, quietFrom + 18_000)).toHaveLength(9);
    // GCE every 2 × --refresh, asked to reuse the load balancer's resources.
    const g = between(calls, 'gce', quietFrom, end);
    expect(g.length).toBeGreaterThanOrEqual(4);
    expect(g.length).toBeLessThanOrEqual(5);
    expect(g.every((c) => c.lbMaxAgeMs === CONSOLE_QUIET.gceLbMaxAgeMs)).toBe(true);
    expect(between(calls, 'gce', t0, t0 + 5000).every((c) => c.lbMaxAgeMs === 0)).toBe(true);
    expect(between(calls, 'apiservers', quietFrom, quietFrom + 16_000)).toHaveLength(4);
    pollers.stop();
  });

  it('a member failing while quiet is polled at the active interval again, at once', async () => {
    const { sources, calls, main } = fakeSources();
    const pollers = startPollers(newStore(), sources, { quiet: CONSOLE_QUIET });
    await vi.advanceTimersByTimeAsync(CONSOLE_QUIET.afterMs + 10_000);
    main.obs = crash(etcd('main'), 0);
    // Seen at the next quiet poll (within 2 s), then every second while a member is down.
    await vi.advanceTimersByTimeAsync(2000);
    const seen = Date.now();
    await vi.advanceTimersByTimeAsync(6000);
    expect(between(calls, 'main', seen, seen + 6000)).toHaveLength(6);
    expect(between(calls, 'events', seen + 1000, seen + 6000)).toHaveLength(5);
    // And GCE at --refresh, with its load balancer read anew.
    const g = between(calls, 'gce', seen, seen + 6000);
    expect(g.length).toBeGreaterThanOrEqual(3);
    expect(g.every((c) => c.lbMaxAgeMs === 0)).toBe(true);
    pollers.stop();
  });

  it('a key (the selection) or a refresh wakes every source', async () => {
    const { sources, calls } = fakeSources();
    const store = newStore();
    const pollers = startPollers(store, sources, { quiet: CONSOLE_QUIET });
    await vi.advanceTimersByTimeAsync(CONSOLE_QUIET.afterMs + 10_000);
    const woke = Date.now();
    store.getState().select('kubernetes-master');
    await vi.advanceTimersByTimeAsync(5000);
    expect(between(calls, 'main', woke, woke + 5000)).toHaveLength(5);
    // Quiet again once nothing more happens; `r` wakes it too.
    await vi.advanceTimersByTimeAsync(CONSOLE_QUIET.afterMs + 5000);
    const q = Date.now();
    await vi.advanceTimersByTimeAsync(6000);
    expect(between(calls, 'main', q, q + 6000)).toHaveLength(3);
    pollers.refreshNow();
    const r = Date.now();
    await vi.advanceTimersByTimeAsync(4000);
    expect(between(calls, 'main', r, r + 4000)).toHaveLength(4);
    pollers.stop();
  });

  it('is off unless asked for: etcd every second however long nothing happens', async () => {
    const { sources, calls } = fakeSources();
    const pollers = startPollers(newStore(), sources);
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(40_000);
    expect(between(calls, 'main', t0 + 30_000, t0 + 40_000)).toHaveLength(10);
    pollers.stop();
  });
});
