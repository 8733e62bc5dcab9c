// issue 4's acceptance against a real 3-zone lab: each VM runs kube-apiserver
// (simulated) and the leader-elected components beside its etcd members, the
// forwarding rule is a real TCP proxy to the healthy replicas, `status --json`
// reports the leases and each apiserver, and the console's lease feed (a
// LeaseWatcher on etcd main) follows a leader's crash onto its timeline.
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedLeases } from '../../src/cli/console.js';
import { resolveTarget } from '../../src/cli/target-flags.js';
import { holderHealth, leaseExpiresAt } from '../../src/domain/leases/holder-health.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { FAST_LEASE_TIMINGS } from '../../src/lab/components/control-plane.js';
import { readLabApiserverPort, readLabContext } from '../../src/lab/context.js';
import { processAlive } from '../../src/lab/processes.js';
import { probeApiservers } from '../../src/net/apiserver.js';
import { type Pollers, startPollers } from '../../src/pollers/index.js';
import { createGceSource } from '../../src/sources/gce-source.js';
import { Observer } from '../../src/sources/observe.js';
import { asLeasesSlot, createConsoleStore, type LeaseItem } from '../../src/store/index.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import { renderApp } from '../ui/harness.js';

const dir = tempLabDir();
const LEASE_MS = FAST_LEASE_TIMINGS.leaseDurationSeconds * 1000;
const COMPONENTS = ['kube-controller-manager', 'kube-scheduler', 'cluster-autoscaler'];

const status = async () => {
  const res = await runCli(['status', '--lab-dir', dir, '--json']);
  return { ...res, json: JSON.parse(res.stdout) as ClusterStatus };
};
const lab = (...args: string[]) => runCli(['lab', ...args, '--dir', dir]);

/** GET https://ip:port/healthz through whatever listens there; the body, or the error. */
function healthz(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: ip, port, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += String(c);
        });
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`error ${err.message}`));
    req.end();
  });
}

const store = createConsoleStore();
let feed: { close(): Promise<void> } | null = null;
let console_: { pollers: Pollers; observer: Observer } | null = null;
const item = (name: string): LeaseItem | undefined =>
  asLeasesSlot(store.getState().leases)?.items.find((i) => i.name === name);

describe('the lab runs a control plane: apiservers, leases, a load balancer as kube-up makes it', () => {
  beforeAll(async () => {
    await labUp(dir, ['--lb-delay', '1']);
  });

  afterAll(async () => {
    console_?.pollers.stop();
    await console_?.observer.close();
    await feed?.close();
    const ctx = readLabContext(dir);
    await labDown(dir);
    await eventually(async () => !processAlive(ctx.supervisorPid), 10_000);
  });

  it('three leases held, each mapped to a replica; every apiserver healthy; the static IP answers through the proxy', async () => {
    const s = await eventually(async () => {
      const r = await status();
      const held = r.json.leases?.filter((l) => l.state === 'held' && l.holderReplica !== null) ?? [];
      return r.code === 0 && held.length === 3 ? r.json : null;
    }, 20_000);
    const names = s.replicas.map((r) => r.name);
    expect(s.leases?.map((l) => l.name)).toEqual(COMPONENTS);
    for (const l of s.leases ?? []) {
      expect(names).toContain(l.holderReplica);
      expect(l).toMatchObject({ source: 'lease', leaseDurationSeconds: 5, judgedBy: 'clock' });
      expect(l.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    const port = readLabApiserverPort(dir);
    for (const r of s.replicas) {
      expect(r.apiserver).toEqual({
        healthy: true,
        error: null,
        url: `https://${r.vm.internalIP}:${port}/readyz`,
        state: 'ready',
        failedChecks: [],
      });
    }
    expect(s.warnings).toEqual([]);
    const ip = s.apiserverIP?.address as string;
    expect(s.apiserverIP?.attachedTo).toBe('load-balancer');
    await eventually(async () => (await healthz(ip, port)) === '200 ok', 10_000);

    // The console, in process: its pollers (Compute, etcd, the apiservers) and its lease feed (a watch on etcd main).
    const target = resolveTarget({ 'lab-dir': dir });
    const observer = new Observer(target, createGceSource(target));
    const pollers = startPollers(
      store,
      {
        observeGce: () => observer.gce!.observe(),
        observeEtcd: (c) => observer.etcd[c]!.observe(),
        probeApiservers: (hosts) =>
          probeApiservers(hosts, target.apiserverPort, { timeoutMs: target.callTimeoutMs }),
      },
      { apiserverIntervalMs: 1000 },
    );
    console_ = { pollers, observer };
    store.getState().applyStatus(s);
    feed = feedLeases(target, store);
    await eventually(async () => {
      const st = store.getState().status;
      return st?.replicas.every((r) => r.apiserver?.state === 'ready') && st.loadBalancer?.apiserver?.state;
    }, 15_000);
    await eventually(async () => {
      const slot = asLeasesSlot(store.getState().leases);
      return slot?.watching && slot.items.every((i) => i.state === 'held' && i.renew?.fresh);
    }, 15_000);
    expect(
      store.getState().timeline.some((e) => e.kind === 'lease' && e.message.startsWith('leases: ')),
    ).toBe(true);
  });

  it('crash the controller-manager leader: another replica holds the lease within the lease duration plus a couple of seconds, on the timeline; the load balancer, without a health check, still sends it connections', async () => {
    const holder = item('kube-controller-manager')?.holderReplica as string;
    expect(holder).toBeTruthy();
    const port = readLabApiserverPort(dir);
    const before = (await status()).json;
    const victimIP = before.replicas.find((r) => r.name === holder)?.vm.internalIP as string;
    const ip = before.apiserverIP?.address as string;

    // The console sees the holder down while the lease still names it (until it expires).
    let seenDown: string | null = null;
    const unsubscribe = store.subscribe((st) => {
      const i = asLeasesSlot(st.leases)?.items.find((x) => x.name === 'kube-controller-manager');
      const r = st.status?.replicas.find((x) => x.name === holder);
      if (!seenDown && i?.holderReplica === holder && holderHealth(r).holderHealthy === false)
        seenDown = holderHealth(r).down;
    });

    // The crash happens between the command's start and its answer: each bound uses the safe end.
    const crashStarted = Date.now();
    expect((await lab('crash', holder)).code).toBe(0);
    const crashedBy = Date.now();
    let restarted = false;
    try {
      // status --json at once: the lease still names the crashed holder, which it reports down, with the expiry.
      const during = await status();
      const kcm = during.json.leases?.find((l) => l.name === 'kube-controller-manager');
      expect(kcm).toMatchObject({ holderReplica: holder, holderHealthy: false });
      expect(kcm?.expiresAt).toBe(leaseExpiresAt(kcm?.renewTime ?? null, 5));
      expect(Date.parse(kcm?.expiresAt ?? '')).toBeLessThan(crashedBy + LEASE_MS + 1000);
      expect(kcm?.holderDown).toMatch(/its apiserver is not answering/);
      expect(during.json.replicas.find((r) => r.name === holder)?.apiserver?.state).toBe('not-answering');

      const moved = await eventually(async () => {
        const i = item('kube-controller-manager');
        return i && i.state === 'held' && i.holderReplica !== null && i.holderReplica !== holder ? i : null;
      }, LEASE_MS + 8000);
      const movedAt = Date.now();
      console.log(
        `kube-controller-manager lease moved ${holder} -> ${moved.holderReplica} ${movedAt - crashedBy}-${movedAt - crashStarted} ms after the crash`,
      );
      // client-go's rule: the others wait a whole lease duration after they last saw the record change
      // (the last renewal was at most a retry period before the crash), then retry with jitter.
      const retry = FAST_LEASE_TIMINGS.retryPeriodMs;
      expect(movedAt - crashStarted).toBeGreaterThan(LEASE_MS - retry - 500);
      expect(movedAt - crashedBy).toBeLessThan(LEASE_MS + 2 * 2.2 * retry + 2000);

      const events = store.getState().timeline.filter((e) => e.kind === 'lease' && e.at >= crashStarted);
      // With how long it had no leader: from the last renewal the watch saw to the new acquire.
      const move = events
        .map((e) => e.message)
        .find((m) =>
          m.startsWith(`kube-controller-manager: leader moved ${holder} -> ${moved.holderReplica}`),
        );
      const m =
        /\(transitions \d+\); leaderless (\d+) s \(.*'s last renewal \d+ s before, (\d+) s after its lease expired\)$/.exec(
          move ?? '',
        );
      expect(m, move).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(LEASE_MS / 1000 - 1);
      expect(Number(m?.[1])).toBeLessThanOrEqual(LEASE_MS / 1000 + 6);
      // The console had the holder down while the lease still named it, and its apiserver not answering.
      unsubscribe();
      expect(seenDown).toMatch(/unreachable|not answering/);
      await eventually(
        async () =>
          store.getState().status?.replicas.find((r) => r.name === holder)?.apiserver?.state ===
          'not-answering',
        5000,
      );
      const screen = renderApp(store);
      expect(screen.text()).toMatch(/api(server)? not answering/);
      screen.unmount();
      // Every lease the crashed replica held moved off it.
      await eventually(async () => {
        const slot = asLeasesSlot(store.getState().leases);
        return slot?.items.every((i) => i.holderReplica !== holder && i.state === 'held');
      }, LEASE_MS + 8000);

      // The crashed replica's apiserver is down: status says so. The pool has no health
      // check (kube-up's), and the replica's VM is RUNNING: as on GCE, new connections to
      // the static IP still go to it and fail there (a pass-through load balancer cannot
      // retry elsewhere), while the others answer. LOAD_BALANCER_NO_HEALTH_CHECK says so.
      expect(await healthz(victimIP, port)).toMatch(/^error /);
      const answers: string[] = [];
      for (let n = 0; n < 9; n++) answers.push(await healthz(ip, port));
      expect(answers.filter((a) => a === '200 ok').length, answers.join(', ')).toBeGreaterThan(0);
      expect(answers.filter((a) => a !== '200 ok').length, answers.join(', ')).toBeGreaterThan(0);
      const after = await status();
      expect(after.code).toBe(5);
      const crashed = after.json.replicas.find((r) => r.name === holder);
      expect(crashed?.apiserver).toMatchObject({ healthy: false });
      expect(after.json.warnings.map((w) => `${w.code}:${w.replica ?? ''}`)).toContain(
        `APISERVER_UNHEALTHY:${holder}`,
      );
      expect(after.json.leases?.every((l) => l.state === 'held' && l.holderReplica !== holder)).toBe(true);

      // Restart: the replica comes back healthy, and the leases stay where they are (no flapping).
      const holders = () => COMPONENTS.map((c) => item(c)?.holderIdentity);
      const settled = holders();
      restarted = true;
      expect((await lab('restart', holder)).code).toBe(0);
      // Its apiserver answers again once its etcd member has rejoined.
      await eventually(async () => (await healthz(victimIP, port)) === '200 ok', 30_000);
      // A restarted elector would take a lease back at once if it were going to (it reads, sees a live holder, waits).
      const watchUntil = Date.now() + LEASE_MS + 2000;
      while (Date.now() < watchUntil) {
        expect(holders()).toEqual(settled);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(asLeasesSlot(store.getState().leases)?.items.every((i) => i.state === 'held')).toBe(true);
    } finally {
      // The next test needs every replica back, whatever happened here.
      if (!restarted) await lab('restart', holder);
    }
  }, 60_000);

  it('a frozen leader stops renewing: its lease moves, and thawed it does not take it back', async () => {
    const holder = item('kube-scheduler')?.holderReplica as string;
    const port = readLabApiserverPort(dir);
    const victimIP = (await status()).json.replicas.find((r) => r.name === holder)?.vm.internalIP as string;
    expect((await lab('freeze', holder)).code).toBe(0);
    try {
      // A hung host: the connection opens but nothing answers.
      expect(await healthz(victimIP, port)).toBe('error timeout');
      await eventually(async () => {
        const i = item('kube-scheduler');
        return i?.state === 'held' && i.holderReplica !== holder;
      }, LEASE_MS + 8000);
      const moves = store
        .getState()
        .timeline.filter((e) => e.message.startsWith(`kube-scheduler: leader moved ${holder} -> `));
      expect(moves).toHaveLength(1);
    } finally {
      await lab('thaw', holder);
    }
    const settled = item('kube-scheduler')?.holderIdentity;
    const until = Date.now() + LEASE_MS;
    while (Date.now() < until) {
      expect(item('kube-scheduler')?.holderIdentity).toBe(settled);
      await new Promise((r) => setTimeout(r, 200));
    }
    await eventually(async () => (await healthz(victimIP, port)) === '200 ok', 10_000);
  }, 40_000);

  it('an apiserver alive but not ready (lab apiserver --not-ready): /readyz fails its shutdown check, /livez answers; status and the console say so', async () => {
    const port = readLabApiserverPort(dir);
    const victim = store.getState().status!.replicas[1]!;
    const ip = victim.vm.internalIP as string;
    const [usage, unknown] = await Promise.all([
      lab('apiserver', victim.name),
      lab('apiserver', 'no-such-vm', '--not-ready'),
    ]);
    expect(usage.code).toBe(2);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain('no running lab VM named no-such-vm');
    expect((await lab('apiserver', victim.name, '--not-ready')).code).toBe(0);
    try {
      expect(await healthz(ip, port)).toBe('200 ok');
      const s = await status();
      expect(s.code).toBe(5);
      const r = s.json.replicas.find((x) => x.name === victim.name);
      expect(r?.apiserver).toMatchObject({ state: 'not-ready', failedChecks: ['shutdown'] });
      expect(s.json.warnings).toContainEqual(
        expect.objectContaining({
          code: 'APISERVER_UNHEALTHY',
          severity: 'error',
          replica: victim.name,
          message: expect.stringMatching(
            /apiserver not ready while its VM is RUNNING: HTTP 500: shutdown failed/,
          ),
        }),
      );
      // Alive but not ready is not down: the leases it holds stay with a healthy holder.
      for (const l of s.json.leases ?? [])
        if (l.holderReplica === victim.name) expect(l.holderHealthy).toBe(true);
      await eventually(
        async () =>
          store.getState().status?.replicas.find((x) => x.name === victim.name)?.apiserver?.state ===
          'not-ready',
        10_000,
      );
    } finally {
      await lab('apiserver', victim.name, '--ready');
    }
    await eventually(
      async () =>
        store.getState().status?.replicas.find((x) => x.name === victim.name)?.apiserver?.state === 'ready',
      10_000,
    );
  }, 60_000);

  it('the components are part of the supervisor: no process of their own to leave behind', async () => {
    const ctx = readLabContext(dir);
    const out = execFileSync('pgrep', ['-f', '--', `--data-dir=${dir}/`])
      .toString()
      .trim()
      .split('\n');
    // Three VMs, two etcd members each, nothing else.
    expect(out).toHaveLength(6);
    expect(processAlive(ctx.supervisorPid)).toBe(true);
  });
});
