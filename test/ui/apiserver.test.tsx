// The console's kube-apiserver readiness: the poller asks for every replica's
// address and the load balancer's IP (none for a replica without an address),
// the store derives the picture through the real model, and the screen shows
// each replica's apiserver and flags one down on a RUNNING VM.
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiserverProbe } from '../../src/domain/types.js';
import { startPollers } from '../../src/pollers/index.js';
import { createConsoleStore } from '../../src/store/index.js';
import { etcd, gce, instance, NAMES } from '../helpers/observations.js';
import { T0 } from './fixtures.js';
import { app, renderApp, renderSized } from './harness.js';

afterEach(() => cleanup());

const ready = (host: string): ApiserverProbe => ({
  host,
  url: `https://${host}:443/readyz`,
  healthy: true,
  answered: true,
  error: null,
  failedChecks: [],
});
const refused = (host: string): ApiserverProbe => ({
  ...ready(host),
  healthy: false,
  answered: false,
  error: 'connection refused',
});
const notReady = (host: string, check: string): ApiserverProbe => ({
  ...ready(host),
  healthy: false,
  error: `HTTP 500: ${check} failed`,
  failedChecks: [check],
});

function observedStore() {
  const store = createConsoleStore({
    now: () => T0,
    target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
  });
  store.getState().applyGce(gce(3), T0);
  store.getState().applyEtcd(etcd('main'), T0);
  store.getState().applyEtcd(etcd('events'), T0);
  return store;
}

describe('the console probes the apiservers', () => {
  it('asks every replica with an address and the load balancer, in one round every few seconds', async () => {
    vi.useFakeTimers();
    try {
      const store = createConsoleStore({
        target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
      });
      // The third VM has no address yet (being created): it is not probed.
      const g = gce(3);
      g.instances[2] = instance(2, { status: 'PROVISIONING', internalIP: null });
      const rounds: string[][] = [];
      const pollers = startPollers(
        store,
        {
          observeGce: async () => g,
          observeEtcd: async (c) => etcd(c),
          probeApiservers: async (hosts) => {
            rounds.push([...hosts].sort());
            return hosts.map((h) => (h === '127.20.1.2' ? refused(h) : ready(h)));
          },
        },
        { apiserverIntervalMs: 3000 },
      );
      await vi.advanceTimersByTimeAsync(100);
      await vi.advanceTimersByTimeAsync(3000);
      pollers.stop();
      expect(rounds.at(-1)).toEqual(['127.20.1.1', '127.20.1.2', '127.20.3.1']);
      expect(rounds.length).toBeLessThanOrEqual(2);
      const s = store.getState().status!;
      expect(s.replicas.map((r) => r.apiserver?.state ?? r.apiserver)).toEqual([
        'ready',
        'not-answering',
        null,
      ]);
      expect(s.loadBalancer?.apiserver?.state).toBe('ready');
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows each replica ready, not ready with the failed check, or not answering; a RUNNING VM whose apiserver is down is flagged', () => {
    const store = observedStore();
    store
      .getState()
      .applyApiservers(
        [ready('127.20.1.1'), refused('127.20.1.2'), notReady('127.20.1.3', 'shutdown'), ready('127.20.3.1')],
        T0,
      );
    const ui = renderApp(store);
    const text = ui.text();
    expect(text).toContain('apiserver ready');
    expect(text).toMatch(/api(server)? not answering/);
    expect(text).toMatch(/api(server)? not ready/);
    // The load balancer's line: what clients reach through it, and that nothing checks its members.
    expect(text).toMatch(
      /apiserver 127\.20\.3\.1 on load balancer kubernetes-master \(3 replicas in pool\) · ready/,
    );
    expect(text).toMatch(
      new RegExp(`ERROR ${NAMES[1]}: apiserver not answering while its VM is RUNNING: connection refused`),
    );
    expect(text).toMatch(/WARN +target pool kubernetes-master has no health check/);
    // On the timeline: the warning as it appeared.
    const events = store.getState().timeline.toArray();
    expect(events.some((e) => e.code === 'APISERVER_UNHEALTHY' && e.replica === NAMES[1])).toBe(true);
  });

  it('identical probe rounds change nothing; the load balancer going down is on the timeline', () => {
    const store = observedStore();
    const round = [ready('127.20.1.1'), ready('127.20.1.2'), ready('127.20.1.3'), ready('127.20.3.1')];
    store.getState().applyApiservers(round, T0);
    const before = store.getState();
    store.getState().applyApiservers(structuredClone(round), T0 + 3000);
    expect(store.getState()).toBe(before);
    store.getState().applyApiservers([...round.slice(0, 3), refused('127.20.3.1')], T0 + 6000);
    const last = store.getState().timeline.latest(1)[0];
    expect(last?.message).toBe(
      'apiserver through the load balancer 127.20.3.1: ready -> not answering: connection refused',
    );
  });

  it('a pool with a health check: the same round asks GCE which members it counts healthy, shown on their cards', async () => {
    vi.useFakeTimers();
    try {
      const store = createConsoleStore({
        target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
      });
      const g = gce(3);
      g.targetPool!.healthChecks = ['projects/p/global/httpHealthChecks/hc'];
      const asked: string[] = [];
      const pollers = startPollers(store, {
        observeGce: async () => g,
        observeEtcd: async (c) => etcd(c),
        probeApiservers: async (hosts) => hosts.map(ready),
        poolHealth: async (pool) => {
          asked.push(pool.name);
          return Object.fromEntries(pool.instances.map((n) => [n, n === NAMES[1] ? 'UNHEALTHY' : 'HEALTHY']));
        },
      });
      await vi.advanceTimersByTimeAsync(100);
      await vi.advanceTimersByTimeAsync(3000);
      pollers.stop();
      expect(asked[0]).toBe('kubernetes-master');
      expect(store.getState().status?.replicas.map((r) => r.poolHealth)).toEqual([
        'HEALTHY',
        'UNHEALTHY',
        'HEALTHY',
      ]);
      const ui = renderApp(store);
      expect(ui.text()).toContain('VM RUNNING · in pool UNHEALTHY');
    } finally {
      vi.useRealTimers();
    }
  });

  it('at 80x24 a down apiserver still shows on its card and in the warnings', () => {
    const store = observedStore();
    store.getState().applyApiservers([ready('127.20.1.1'), refused('127.20.1.2'), ready('127.20.1.3')], T0);
    const ui = renderSized(app(store), 80, 24);
    const text = ui.text();
    ui.unmount();
    expect(text).toMatch(/api(server)? not answering/);
    expect(text).toContain(`${NAMES[1]}: apiserver not answering while its VM is RUNNING`);
  });
});
