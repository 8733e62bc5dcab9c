// One observation of everything a Target names: GCE (when configured) and both
// etcd clusters, each bounded by its own deadlines, none waiting on another.

import { urlHost } from '../domain/names.js';
import { apiserverHostOf, buildStatus, type Observations } from '../domain/status.js';
import type {
  ApiserverProbe,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  LeaseObservation,
} from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';
import { apiserverURL, probeApiserver } from '../net/apiserver.js';
import { mark } from '../trace.js';
import { EtcdClusterSource } from './etcd.js';
import { errorMessage } from './etcd-client.js';
import { readLeasesOnce } from './leases-observe.js';
import { createPoolHealthSource, type PoolHealthSource } from './pool-health.js';
import { VantageEtcdSource } from './replica-vantage.js';
import type { Target } from './target.js';

export interface ObserveAllOptions {
  /** Read the leader leases from etcd main (exact keys, in parallel with the rest). */
  leases?: boolean;
  /** Probe every replica's kube-apiserver /readyz, and the load balancer's (the replicas' addresses come from the rest). */
  apiservers?: boolean;
}

export interface GceSourceLike {
  observe(): Promise<GceObservation>;
  close(): Promise<void> | void;
}

/** Instance name -> internal IP. */
function hostsOf(gce: GceObservation): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const i of gce.instances) if (i.internalIP) hosts.set(i.name, i.internalIP);
  return hosts;
}

export class Observer {
  readonly etcd: Partial<Record<EtcdClusterName, EtcdClusterSource>> = {};
  /** targetPools.getHealth, for a pool with a health check (its clients load on first use). */
  readonly poolHealth: PoolHealthSource | null;
  /** Resolves when the VMs' addresses are first known (seeds derived from them can be asked). */
  readonly hostsKnown: Promise<void>;
  private hostsLearned: () => void = () => {};

  constructor(
    readonly target: Target,
    readonly gce: GceSourceLike | null,
  ) {
    this.poolHealth = createPoolHealthSource(target);
    this.hostsKnown = new Promise((resolve) => {
      this.hostsLearned = resolve;
    });
    const v = target.vantage;
    for (const c of ETCD_CLUSTERS) {
      const t = target.etcd[c];
      if (!t) continue;
      const args = [c, t, target.callTimeoutMs, { masterName: target.masterName }] as const;
      // On a replica the members it cannot ask are seen through its own member's peer metrics.
      this.etcd[c] = v
        ? new VantageEtcdSource({ replica: v.replica, metricsURL: v.metrics[c] }, ...args)
        : new EtcdClusterSource(...args);
    }
  }

  async observeGce(): Promise<{ gce: GceObservation | null; gceError: string | null }> {
    if (!this.gce) return { gce: null, gceError: null };
    try {
      const gce = await this.gce.observe();
      this.learnHosts(gce);
      return { gce, gceError: null };
    } catch (err) {
      return { gce: null, gceError: errorMessage(err) };
    }
  }

  /** The VMs' addresses, where etcd members no seed answers for are reached (next observation on). */
  learnHosts(gce: GceObservation): void {
    const hosts = hostsOf(gce);
    for (const s of Object.values(this.etcd)) s?.setHosts(hosts);
    this.hostsLearned();
  }

  async observeEtcd(
    cluster: EtcdClusterName,
    hosts?: Promise<ReadonlyMap<string, string> | null>,
  ): Promise<EtcdObservation | null> {
    return (await this.etcd[cluster]?.observe(hosts ? { hosts } : {})) ?? null;
  }

  /**
   * The leader records, through whichever etcd main endpoint answers first
   * (with no seeds given, the VMs' addresses: `hosts` is awaited for them).
   */
  async observeLeases(hosts?: Promise<ReadonlyMap<string, string> | null>): Promise<LeaseObservation | null> {
    const main = this.etcd.main;
    if (!main) return null;
    const seeds = (await main.seeds(hosts)) ?? [];
    const clients = seeds.map((e) => main.client(e));
    return readLeasesOnce(clients, this.target.etcdPrefix, this.target.callTimeoutMs);
  }

  /**
   * The hosts whose apiserver to probe: the replicas' addresses once
   * everything is observed (see apiserverHostOf).
   */
  apiserverHosts(obs: Observations): string[] {
    const replicas = buildStatus(obs)
      .replicas.map((r) => apiserverHostOf(r, obs.gce !== null))
      .filter((h): h is string => h !== null);
    // And through the load balancer: the forwarding rule's IP is what clients use.
    const lb = obs.gce?.forwardingRule?.ip;
    return lb ? [...replicas, lb] : replicas;
  }

  async observeAll(opts: ObserveAllOptions = {}): Promise<Observations> {
    const port = this.target.apiserverPort;
    const probes = new Map<string, Promise<ApiserverProbe>>();
    const probe = (hosts: readonly (string | null)[]) => {
      for (const h of hosts) {
        if (h === null || probes.has(h)) continue;
        probes.set(h, probeApiserver(h, apiserverURL(h, port), { timeoutMs: this.target.callTimeoutMs }));
      }
    };
    const gce = this.observeGce();
    // Members no seed answers for are asked at their VMs' addresses, once Compute says them.
    const hosts = gce.then(({ gce: g }) => (g ? hostsOf(g) : null));
    // Probing starts as soon as addresses are likely known: etcd's seeds at once (the
    // apiserver runs beside its member), the VMs' internal IPs when Compute answers. So a
    // hung apiserver costs no more than a hung member; probes of hosts that turn out not to
    // be replicas are dropped.
    if (opts.apiservers) {
      probe((this.target.etcd.main?.endpoints ?? []).map(urlHost));
      if (this.gce)
        void gce.then((g) => {
          probe(g.gce?.instances.map((i) => i.internalIP) ?? []);
          probe([g.gce?.forwardingRule?.ip ?? null]);
        });
    }
    // KUBE_HA_TRACE: when each part of the first look came in (src/trace.ts).
    const traced = <T>(p: Promise<T>, name: string) => p.finally(() => mark(`look ${name}`));
    const [g, main, events, leases] = await Promise.all([
      traced(gce, 'gce'),
      traced(this.observeEtcd('main', hosts), 'etcd main'),
      traced(this.observeEtcd('events', hosts), 'etcd events'),
      opts.leases ? traced(this.observeLeases(hosts), 'leases') : Promise.resolve(undefined),
    ]);
    const obs: Observations = {
      project: this.target.project,
      region: this.target.region,
      masterName: this.target.masterName,
      ...g,
      etcd: { main, events },
    };
    if (leases !== undefined) obs.leases = leases;
    if (opts.apiservers) {
      const hosts = this.apiserverHosts(obs);
      probe(hosts);
      // A pool with a health check: which members GCE sends connections to.
      const pool = obs.gce?.targetPool;
      const poolHealth = pool?.healthChecks.length ? this.poolHealth?.ask(pool) : undefined;
      if (poolHealth) obs.poolHealth = await poolHealth;
      // Every probe started is awaited (each is bounded by the timeout), so none outlives the call.
      const done = await Promise.all(probes.values());
      mark('look apiservers');
      obs.apiservers = done.filter((p) => hosts.includes(p.host));
    }
    return obs;
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.etcd)) s?.close();
    await this.gce?.close();
    await this.poolHealth?.close();
  }
}
