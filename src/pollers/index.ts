// Feeds the console store: GCE every --refresh seconds, each etcd cluster every
// second, each on its own timer. Nothing here renders, and nothing the UI does
// waits for a poll.
import type {
  ApiserverProbe,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  GceTargetPool,
} from '../domain/types.js';
import type { ConsoleStore } from '../store/consoleStore.js';
import type { SourceKey } from '../store/types.js';
import { SOURCE_KEYS } from '../store/types.js';
import { mark } from '../trace.js';
import { apiserverHostsToProbe, DEFAULT_APISERVER_INTERVAL_MS } from './apiservers.js';
import { Poller } from './poller.js';

/** What the pollers read; src/sources provides the real ones, tests fake them. */
export interface ObservationSources {
  /** `lbMaxAgeMs`: the load balancer's resources may be reused when read less than this long ago. */
  observeGce(opts?: { lbMaxAgeMs: number }): Promise<GceObservation>;
  /** `fresh`: the operator asked for a refresh; re-read what may be cached (membership). */
  observeEtcd(cluster: EtcdClusterName, opts: { fresh: boolean }): Promise<EtcdObservation>;
  /**
   * One round of kube-apiserver probes, in parallel, each with its own deadline
   * (absent: the console does not probe). Never rejects: a probe says why it failed.
   */
  probeApiservers?(hosts: string[]): Promise<ApiserverProbe[]>;
  /** targetPools.getHealth of each member, asked in the same round when the pool has a health check. */
  poolHealth?(pool: GceTargetPool): Promise<Record<string, string>>;
}

export interface PollerOptions {
  /** --refresh: seconds between GCE polls (default 2, at least 1). */
  refreshSeconds?: number;
  /** Between etcd status polls (default 1000 ms). */
  etcdIntervalMs?: number;
  /** Which sources to poll (default all; e.g. `{ gce: false }` for etcd-only). */
  poll?: Partial<Record<SourceKey, boolean>>;
  /** Give up on one poll after this long (default: GCE max(15 s, 3 intervals), etcd 5 s). */
  timeoutMs?: Partial<Record<SourceKey, number>>;
  /** A source with no successful poll for this long is shown stale (default max(3 s, 2 intervals + 1 s)). */
  staleAfterMs?: Partial<Record<SourceKey, number>>;
  /** Between rounds of apiserver probes (default 3000 ms). */
  apiserverIntervalMs?: number;
  /** Give up on a round of apiserver probes after this long (default 5000 ms; each probe has its own deadline). */
  apiserverTimeoutMs?: number;
  /** How often staleness is checked (default 1000 ms). */
  stalenessCheckMs?: number;
  /**
   * Poll less often while nothing happens (default: never quiet). Quiet =
   * this long since anything changed on screen beyond counters, a key, a
   * refresh or an operation, with no source in trouble and no warning of
   * severity error.
   */
  quiet?: QuietOptions;
  now?: () => number;
}

export interface QuietOptions {
  afterMs: number;
  /** Between etcd polls while quiet (the active interval is etcdIntervalMs). */
  etcdIntervalMs: number;
  /** Between GCE polls while quiet (a multiple of --refresh). */
  gceFactor: number;
  /** The load balancer's resources are re-read at most this often while quiet (instances every poll). */
  gceLbMaxAgeMs: number;
  apiserverIntervalMs: number;
}

/**
 * The console's quiet cadence (issue 12: idle CPU). The worst case it costs:
 * a member that crashes while quiet is seen failing within 2 s (1 s when
 * active), and from then on every source is polled at its active interval; a
 * VM's status within 2 × --refresh, a load balancer change within 20 s.
 */
export const CONSOLE_QUIET: QuietOptions = {
  afterMs: 10_000,
  etcdIntervalMs: 2000,
  gceFactor: 2,
  gceLbMaxAgeMs: 20_000,
  // Under the 5 s a Node server keeps an idle connection (the lab's apiservers): kept connections stay.
  apiserverIntervalMs: 4000,
};

/** Store keys whose changes are the pollers' own results, not news by themselves. */
const PASSIVE_KEYS: ReadonlySet<string> = new Set(['observations', 'status', 'sources', 'leases']);

export interface Pollers {
  /** `r`: poll every source now (a running poll is followed by another at once). */
  refreshNow(): void;
  /** Stops every timer. Polls in flight are not awaited; their results are dropped. */
  stop(): void;
  /** Effective intervals, after defaults and the floor. */
  readonly intervalsMs: Readonly<Partial<Record<SourceKey, number>>>;
  readonly staleAfterMs: Readonly<Partial<Record<SourceKey, number>>>;
}

export const DEFAULT_REFRESH_SECONDS = 2;
export const MIN_REFRESH_SECONDS = 1;

/** --refresh as milliseconds: default 2 s, never below 1 s (protects the API). */
export function gceIntervalMs(refreshSeconds: number | undefined): number {
  const s =
    refreshSeconds !== undefined && Number.isFinite(refreshSeconds)
      ? refreshSeconds
      : DEFAULT_REFRESH_SECONDS;
  return Math.max(MIN_REFRESH_SECONDS, s) * 1000;
}

export function startPollers(
  store: ConsoleStore,
  sources: ObservationSources,
  opts: PollerOptions = {},
): Pollers {
  const now = opts.now ?? Date.now;
  const enabled = (k: SourceKey) => opts.poll?.[k] ?? true;
  const intervalsMs: Partial<Record<SourceKey, number>> = {};
  const staleAfterMs: Partial<Record<SourceKey, number>> = {};
  const pollers: Poller<unknown>[] = [];
  const byKey = new Map<SourceKey, Poller<unknown>>();
  const isPaused = () => store.getState().paused;
  // etcd clusters with a member no endpoint is known for yet (a VM Compute has
  // not shown us): its address comes with the next GCE answer, so that answer
  // is asked for at once, and the cluster polled again as soon as it comes.
  const locating = new Set<SourceKey>();
  let gceAskedAt = Number.NEGATIVE_INFINITY;
  const quiet = opts.quiet;
  let activeAt = now();
  const isQuiet = (): boolean => {
    if (!quiet || now() - activeAt < quiet.afterMs) return false;
    const s = store.getState();
    if (SOURCE_KEYS.some((k) => s.sources[k].error !== null || s.sources[k].stale)) return false;
    return !s.status?.warnings.some((w) => w.severity === 'error');
  };
  /** Something happened: every source back to its active interval. */
  const wake = () => {
    activeAt = now();
    for (const p of pollers) p.wake();
  };
  const quietSpec = (intervalMs: number) => (quiet ? { quietIntervalMs: intervalMs, isQuiet } : {});

  for (const key of SOURCE_KEYS) {
    if (!enabled(key)) continue;
    const interval =
      key === 'gce' ? gceIntervalMs(opts.refreshSeconds) : Math.max(100, opts.etcdIntervalMs ?? 1000);
    intervalsMs[key] = interval;
    staleAfterMs[key] = opts.staleAfterMs?.[key] ?? Math.max(3000, 2 * interval + 1000);
    const timeoutMs = opts.timeoutMs?.[key] ?? (key === 'gce' ? Math.max(15_000, 3 * interval) : 5000);
    const onError = (message: string, at: number) => store.getState().sourceFailed(key, message, at);
    if (key === 'gce') {
      pollers.push(
        new Poller<GceObservation>({
          name: key,
          intervalMs: interval,
          ...quietSpec(interval * (quiet?.gceFactor ?? 1)),
          timeoutMs,
          poll: (forced) =>
            sources.observeGce({ lbMaxAgeMs: quiet && !forced && isQuiet() ? quiet.gceLbMaxAgeMs : 0 }),
          onResult: (obs, at) => {
            mark('first poll gce');
            store.getState().applyGce(obs, at);
            for (const k of locating) byKey.get(k)?.refreshNow();
            locating.clear();
          },
          onError,
          isPaused,
          now,
        }) as Poller<unknown>,
      );
    } else {
      pollers.push(
        new Poller<EtcdObservation>({
          name: key,
          intervalMs: interval,
          ...quietSpec(Math.max(interval, quiet?.etcdIntervalMs ?? 0)),
          timeoutMs,
          poll: (forced) => sources.observeEtcd(key, { fresh: forced }),
          onResult: (obs, at) => {
            mark(`first poll ${key}`);
            store.getState().applyEtcd(obs, at);
            if (obs.unreachable && Object.keys(obs.unreachable).length) {
              locating.add(key);
              if (now() - gceAskedAt > 2000) {
                gceAskedAt = now();
                byKey.get('gce')?.refreshNow();
              }
            }
          },
          onError,
          isPaused,
          now,
        }) as Poller<unknown>,
      );
    }
  }

  for (const [i, key] of SOURCE_KEYS.filter(enabled).entries()) byKey.set(key, pollers[i]!);
  const probe = sources.probeApiservers?.bind(sources);
  if (probe) {
    // Not a source of its own: a round that finds no address to probe applies nothing.
    const apiInterval = Math.max(500, opts.apiserverIntervalMs ?? DEFAULT_APISERVER_INTERVAL_MS);
    pollers.push(
      new Poller<ApiserverProbe[] | null>({
        name: 'apiservers',
        intervalMs: apiInterval,
        ...quietSpec(Math.max(apiInterval, quiet?.apiserverIntervalMs ?? 0)),
        timeoutMs: opts.apiserverTimeoutMs ?? 5000,
        poll: async () => {
          const hosts = apiserverHostsToProbe(store.getState());
          const pool = store.getState().observations.gce?.targetPool;
          // Beside the probes, in the same round (so never two at once): the pool's view of its members.
          const health =
            pool?.healthChecks.length && sources.poolHealth
              ? sources
                  .poolHealth(pool)
                  .then((h) => store.getState().applyPoolHealth(h, now()))
                  .catch(() => {})
              : null;
          const [probes] = await Promise.all([hosts.length ? probe(hosts) : null, health]);
          return probes;
        },
        onResult: (probes, at) => {
          if (probes) store.getState().applyApiservers(probes, at);
        },
        onError: () => {},
        isPaused,
        now,
      }) as Poller<unknown>,
    );
  }
  const refreshNow = () => {
    activeAt = now();
    for (const p of pollers) p.refreshNow();
  };
  // Resuming shows fresh data at once rather than at the next tick.
  const unsubscribe = store.subscribe((s, prev) => {
    if (prev.paused && !s.paused) refreshNow();
    // News (a timeline event), a key (selection, view, filter, message) or trouble: active again.
    else if (
      quiet &&
      (Object.keys(s) as (keyof typeof s)[]).some((k) => s[k] !== prev[k] && !PASSIVE_KEYS.has(k))
    )
      wake();
    else if (quiet && s.status !== prev.status && s.status?.warnings.some((w) => w.severity === 'error'))
      wake();
  });
  // While quiet a source answers less often: it is stale only after two of its quiet intervals.
  const quietStaleAfterMs: Partial<Record<SourceKey, number>> = {};
  for (const k of Object.keys(staleAfterMs) as SourceKey[]) {
    const q = quiet ? (k === 'gce' ? intervalsMs[k]! * quiet.gceFactor : quiet.etcdIntervalMs) : 0;
    quietStaleAfterMs[k] = Math.max(staleAfterMs[k]!, 2 * q + 1000);
  }
  const lenientMs = Math.max(0, ...Object.values(quietStaleAfterMs));
  let wasQuiet = false;
  let wokeAt = Number.NEGATIVE_INFINITY;
  const checkStaleness = () => {
    const q = isQuiet();
    if (wasQuiet && !q) wokeAt = now();
    wasQuiet = q;
    // Just woken: the last answer may be a quiet interval old, and the next is on its way.
    const lenient = q || now() - wokeAt < lenientMs;
    store.getState().checkStaleness(now(), lenient ? quietStaleAfterMs : staleAfterMs);
  };
  const staleness = setInterval(checkStaleness, opts.stalenessCheckMs ?? 1000);
  checkStaleness();
  for (const p of pollers) p.start();

  return {
    refreshNow,
    stop: () => {
      unsubscribe();
      clearInterval(staleness);
      for (const p of pollers) p.stop();
    },
    intervalsMs,
    staleAfterMs,
  };
}
