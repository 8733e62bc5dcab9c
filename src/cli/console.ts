// `kube-ha [ui]`: the live console, and `kube-ha demo`: a 3-zone lab with the
// console on it (actions enabled), stopping the lab it started on exit. The
// lab is imported only by `demo`, at run time, from ./lab.js, which
// scripts/bundle.mjs keeps out of the console bundle.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { probeApiservers } from '../net/apiserver.js';
import { latestSnapshot } from '../ops/etcd-snapshot.js';
import { CONSOLE_QUIET, startPollers } from '../pollers/index.js';
import { startLeaseFeed } from '../sources/leases-observe.js';
import { MemberClients } from '../sources/member-clients.js';
import { Observer } from '../sources/observe.js';
import type { Target } from '../sources/target.js';
import { buildLeasesSlot, type ConsoleStore, createConsoleStore } from '../store/index.js';
import { mark } from '../trace.js';
import { onTerminalGone, SIGNAL_EXIT } from '../ui/terminal-gone.js';
import { defaultLabDir } from './paths.js';
import { resolveTargetAsync, TARGET_OPTIONS } from './target-flags.js';
import { parseFlags, UsageError } from './usage.js';

/**
 * The console re-reads etcd membership at least this often (statuses every
 * second): sooner when a status names a member or leader the list lacks, a call
 * fails, or the operator refreshes (`r`, and after each operation).
 */
const CONSOLE_MEMBERS_MAX_AGE_MS = 5000;

const CONSOLE_OPTIONS = {
  ...TARGET_OPTIONS,
  write: { type: 'boolean' },
  refresh: { type: 'string' },
  'no-color': { type: 'boolean' },
  ascii: { type: 'boolean' },
  debug: { type: 'boolean' },
} as const;

/**
 * Follows the leader leases with a watch on etcd main (staleness judged on
 * this machine's clock, re-judged twice a second) and feeds the store.
 */
export function feedLeases(
  target: Target,
  store: ConsoleStore,
  /** Where to start when no seeds were given: the endpoints derived from the VMs, once known. */
  derivedSeeds: () => Promise<string[] | null> = async () => null,
): { close(): Promise<void> } | null {
  const main = target.etcd.main;
  if (!main) return null;
  // One client per endpoint: the feed moves its watch off a member that dies or hangs.
  // Each client verifies its member's certificate by the name it carries (kube-up's
  // name `etcd-<instance>`, not the VM's IP); a member down at start is left out.
  const pool = new MemberClients({ tls: main.tls, timeoutMs: target.callTimeoutMs });
  let closed = false;
  let feed: ReturnType<typeof startLeaseFeed> | null = null;
  // Derived seeds wait for Compute, which may never answer: closing must not wait for them.
  const seeds = main.endpoints.length ? Promise.resolve(main.endpoints) : derivedSeeds().then((s) => s ?? []);
  void seeds.then(async (endpoints) => {
    if (closed) return;
    const all = await Promise.allSettled(endpoints.map((e) => pool.get(e)));
    const clients = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (closed) pool.close(); // clients made while closing
    if (closed || clients.length === 0) return;
    feed = startLeaseFeed(clients, {
      prefix: target.etcdPrefix,
      timeoutMs: Math.max(target.callTimeoutMs, 3000),
      onUpdate: (u) => {
        const known = store.getState().status?.replicas.map((r) => r.name) ?? [];
        store.getState().applyLeases(buildLeasesSlot(u, known), u.now);
      },
    });
  });
  return {
    async close() {
      closed = true;
      await feed?.close();
      pool.close();
    },
  };
}

export async function consoleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, CONSOLE_OPTIONS);
  if (positionals.length)
    throw new UsageError(`unexpected argument '${positionals[0]}' (see kube-ha --help)`);
  const refresh = values.refresh === undefined ? undefined : Number(values.refresh);
  if (refresh !== undefined && (!Number.isFinite(refresh) || refresh < 1 || refresh > 3600)) {
    throw new UsageError(
      `--refresh: '${values.refresh}' must be seconds from 1 to 3600 (the floor protects the API quota)`,
    );
  }
  const target = await resolveTargetAsync(values, process.env, { deriveEtcd: true });
  if (!process.stdout.isTTY)
    throw new UsageError('the console needs a terminal; for scripts use kube-ha status --json');
  mkdirSync(target.stateDir, { recursive: true });
  const debugLogPath = join(target.stateDir, 'debug.log');
  if (values.debug) process.stderr.write(`kube-ha: debug log at ${debugLogPath}\n`);

  // The Compute client costs ~2 s to load: the etcd part shows first.
  const gce = target.compute ? (await import('../sources/gce-worker.js')).createGceWorker(target) : null;
  const observer = new Observer(target, gce);
  const store = createConsoleStore({
    mode: values.write ? 'write' : 'read-only',
    target: { project: target.project, region: target.region, masterName: target.masterName },
  });
  const pollers = startPollers(
    store,
    {
      observeGce: async (opts) => {
        const g = await gce!.observe(opts);
        observer.learnHosts(g);
        return g;
      },
      observeEtcd: (c, { fresh }) =>
        observer.etcd[c]!.observe({ membersMaxAgeMs: fresh ? 0 : CONSOLE_MEMBERS_MAX_AGE_MS }),
      probeApiservers: (hosts) => {
        const lb = store.getState().status?.loadBalancer?.ip;
        return probeApiservers(hosts, target.apiserverPort, {
          timeoutMs: target.callTimeoutMs,
          keepAlive: true,
          fresh: lb ? [lb] : [],
        });
      },
      ...(observer.poolHealth ? { poolHealth: (pool) => observer.poolHealth!.ask(pool) } : {}),
    },
    {
      ...(refresh !== undefined ? { refreshSeconds: refresh } : {}),
      quiet: CONSOLE_QUIET,
      poll: { gce: gce !== null, main: Boolean(target.etcd.main), events: Boolean(target.etcd.events) },
    },
  );
  const leases = feedLeases(target, store, async () => {
    await observer.hostsKnown;
    return (await observer.etcd.main?.seeds()) ?? null;
  });
  // The header's last snapshot: the state dir's records, read every 15 s (operations and
  // kube-ha snapshot write them; a directory listing is all it costs).
  const snapshotDir = join(target.stateDir, 'snapshots');
  const readSnapshot = () => {
    const r = latestSnapshot(snapshotDir);
    store
      .getState()
      .setLastSnapshot(r ? { takenAt: Date.parse(r.takenAt), revision: r.revision, file: r.file } : null);
  };
  readSnapshot();
  const snapshotTimer = setInterval(readSnapshot, 15_000);
  snapshotTimer.unref();
  mark('pollers started');
  const { runConsole } = await import('../ui/run.js');
  const { colorWanted } = await import('../ui/theme.js');
  const { startConsoleOps } = await import('../ui/ops/wiring.js');
  mark('ui imported');
  // The operations' etcd clients start from seeds: with none given (members asked at
  // their VMs' addresses) they refuse, as they did before such targets existed.
  const derived = target.etcd.main?.endpoints.length === 0;
  const ops = startConsoleOps(derived ? { ...target, etcd: { main: null, events: null } } : target, {
    store,
    write: Boolean(values.write),
    refresh: () => pollers.refreshNow(),
  });
  try {
    return await runConsole({
      store,
      pollers,
      write: Boolean(values.write),
      color: colorWanted(process.env, Boolean(values['no-color'])),
      ascii: Boolean(values.ascii),
      stateDir: target.stateDir,
      debugLogPath,
      ops: ops.controller,
    });
  } finally {
    clearInterval(snapshotTimer);
    await ops.close();
    pollers.stop();
    await leases?.close();
    await observer.close();
  }
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    'no-color': { type: 'boolean' },
    ascii: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`demo takes no arguments (got ${positionals.join(' ')})`);
  const dir = defaultLabDir();
  const { labDown, labRunning, labUp } = await import('./lab.js');
  // A signal while the demo runs (Ctrl-C while the lab starts, a dropped ssh
  // session) must not leave the lab half up or running on: it is noted, the
  // lab finishes starting, and is stopped. The console, once up, handles the
  // same signals itself; these listeners stay through the lab's stop, which a
  // second SIGHUP (the shell's, after the terminal's) would otherwise cut short.
  let interrupted: keyof typeof SIGNAL_EXIT | null = null;
  const listeners = (['SIGHUP', 'SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => {
      interrupted ??= sig;
    };
    process.on(sig, h);
    return () => process.off(sig, h);
  });
  const detach = onTerminalGone([process.stdout, process.stderr], () => {
    interrupted ??= 'SIGHUP';
  });
  let started = false;
  try {
    if (!labRunning(dir)) {
      process.stderr.write(`kube-ha: starting a 3-zone lab in ${dir} (real etcd processes)\n`);
      const { seconds } = await labUp({
        dir,
        zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
        replicas: 3,
        lbDelaySeconds: 10,
        project: 'kube-ha-lab',
        masterName: 'kubernetes-master',
        bootMs: 1000,
        log: (l) => process.stderr.write(`lab: ${l}\n`),
      });
      started = true;
      process.stderr.write(
        `kube-ha: lab up in ${seconds.toFixed(1)} s; try \`kube-ha lab crash kubernetes-master\` in another terminal\n`,
      );
    }
    if (interrupted) return SIGNAL_EXIT[interrupted];
    return await consoleCommand([
      '--lab-dir',
      dir,
      '--write',
      ...(values['no-color'] ? ['--no-color'] : []),
      ...(values.ascii ? ['--ascii'] : []),
    ]);
  } finally {
    if (started) {
      process.stderr.write('kube-ha: stopping the lab the demo started\n');
      await labDown(dir);
    }
    for (const off of listeners) off();
    detach();
  }
}
