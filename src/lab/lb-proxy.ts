// The lab's network load balancer, modelled on a GCE target pool behind a
// forwarding rule: a TCP proxy on the rule's IP that sends each connection to
// a member of the pool, and a prober for the pool's legacy HTTP health check.
//
// What it models (GCE's TargetPool and HttpHealthCheck references):
// - A pool with no health check sends traffic to every instance in it that is
//   RUNNING, once the forwarding rule is programmed; getHealth reports those
//   HEALTHY.
// - A pool with an httpHealthCheck: a plain HTTP GET to each member on the
//   check's port and requestPath, Host header the check's `host` or else the
//   forwarding rule's IP; a probe passes on HTTP 200 within timeoutSec. One
//   probe per checkIntervalSec; a member starts unhealthy, turns healthy after
//   healthyThreshold passes in a row and unhealthy after unhealthyThreshold
//   failures in a row. Nothing else counts: kube-apiserver's TLS on 443 fails
//   an HTTP check, as on GCE.
// - Traffic goes to the healthy members; with no backup pool, when none is
//   healthy the pool is used in "force" mode and traffic goes to all of them.
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ComputeService, HttpHealthCheckResource } from './compute/index.js';
import { listenExclusive } from './loopback.js';

/** One member to probe with one check. */
export interface ProbeTarget {
  /**
   * The member's internal IP. GCE sends a target pool's probes to the
   * forwarding rule's IP, which the guest accepts as its own; the lab's
   * rule IP is the proxy, so the probe goes to the member's address.
   */
  instanceIP: string;
  /** The forwarding rule's IP: the Host header when the check sets no host. */
  ruleIP: string;
  check: HttpHealthCheckResource;
}

interface ProbeState {
  healthy: boolean;
  /** Passes (positive) or failures (negative) in a row. */
  streak: number;
  nextAt: number;
  inflight: boolean;
  lastError: string | null;
}

export interface HealthProberOptions {
  /** What to probe now. */
  targets(): ProbeTarget[];
  /** How often due probes are looked for (default 100 ms); each target is probed every checkIntervalSec. */
  tickMs?: number;
}

/** One legacy HTTP health check probe: healthy on HTTP 200 within timeoutSec. Never rejects. */
export function probeHttpCheck(t: ProbeTarget): Promise<{ ok: boolean; error: string | null }> {
  const { check } = t;
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, error });
    };
    const req = request({
      host: t.instanceIP,
      port: check.port,
      path: check.requestPath,
      method: 'GET',
      headers: { Host: check.host || t.ruleIP },
      agent: false,
    });
    req.on('response', (res) => {
      res.resume();
      done(res.statusCode === 200, res.statusCode === 200 ? null : `HTTP ${res.statusCode}`);
    });
    req.on('error', (err) => done(false, err.message));
    const timer = setTimeout(
      () => done(false, `no answer in ${check.timeoutSec} s`),
      check.timeoutSec * 1000,
    );
    req.end();
  });
}

const stateKey = (instanceIP: string, check: HttpHealthCheckResource) => `${instanceIP} ${check.selfLink}`;

/** Runs each target's check on its own schedule and keeps GCE's health state per (member, check). */
export class HealthProber {
  private readonly states = new Map<string, ProbeState>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: HealthProberOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 100);
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    const live = new Set<string>();
    for (const t of this.opts.targets()) {
      const key = stateKey(t.instanceIP, t.check);
      live.add(key);
      let s = this.states.get(key);
      if (!s) {
        // A member newly checked (or back from not RUNNING) starts unhealthy.
        s = { healthy: false, streak: 0, nextAt: now, inflight: false, lastError: 'not probed yet' };
        this.states.set(key, s);
      }
      if (s.inflight || now < s.nextAt) continue;
      s.inflight = true;
      s.nextAt = now + t.check.checkIntervalSec * 1000;
      const state = s;
      void probeHttpCheck(t).then(({ ok, error }) => {
        state.inflight = false;
        state.lastError = error;
        if (ok) {
          state.streak = Math.max(state.streak, 0) + 1;
          if (state.streak >= t.check.healthyThreshold) state.healthy = true;
        } else {
          state.streak = Math.min(state.streak, 0) - 1;
          if (-state.streak >= t.check.unhealthyThreshold) state.healthy = false;
        }
      });
    }
    // Members that left the pool, stopped running, or lost their check start over.
    for (const key of this.states.keys()) if (!live.has(key)) this.states.delete(key);
  }

  /** The member's health state under this check: false until it passed healthyThreshold probes. */
  healthy(instanceIP: string, check: HttpHealthCheckResource): boolean {
    return this.states.get(stateKey(instanceIP, check))?.healthy ?? false;
  }

  /** Why the last probe failed (null when it passed), for logs and tests. */
  lastError(instanceIP: string, check: HttpHealthCheckResource): string | null | undefined {
    return this.states.get(stateKey(instanceIP, check))?.lastError;
  }
}

export interface LbProxyOptions {
  ip: string;
  port: number;
  /** The members' apiserver port. */
  backendPort: number;
  /** Members that may take a connection now. */
  backends(): string[];
  connectTimeoutMs?: number;
  log?(line: string): void;
}

export class LbProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  /** Connections forwarded, per backend (tests and `lab status`). */
  readonly forwarded = new Map<string, number>();
  dropped = 0;

  constructor(readonly opts: LbProxyOptions) {}

  async start(): Promise<void> {
    const server = createServer((client) => this.onConnection(client));
    await listenExclusive(server, this.opts.ip, this.opts.port);
    this.server = server;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private onConnection(client: Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    const backends = this.opts.backends();
    if (backends.length === 0) {
      this.dropped++;
      client.destroy();
      return;
    }
    // Each new connection to the next member (GCE spreads them by a hash of the
    // connection; round robin spreads them as evenly and is reproducible). A
    // member that refuses fails that connection: a target pool is a pass-through
    // load balancer and cannot retry elsewhere. Without a health check, a pool
    // with one apiserver down fails a share of new connections, on GCE and here.
    const host = backends[this.next++ % backends.length] as string;
    this.forward(client, host);
  }

  private forward(client: Socket, host: string): void {
    if (client.destroyed) {
      this.dropped++;
      return;
    }
    const upstream = connect({ host, port: this.opts.backendPort });
    this.track(upstream);
    let connected = false;
    const timer = setTimeout(
      () => upstream.destroy(new Error('connect timeout')),
      this.opts.connectTimeoutMs ?? 2000,
    );
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      this.forwarded.set(host, (this.forwarded.get(host) ?? 0) + 1);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (!connected) {
        // What the client of a GCE pool sees when the member's port is closed: a reset.
        this.opts.log?.(`lb ${this.opts.ip}: ${host} refused (${err.message}), connection reset`);
        this.dropped++;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      client.destroy();
    });
    upstream.on('close', () => {
      if (connected) client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}

export interface LabLoadBalancersOptions {
  compute: Pick<ComputeService, 'state' | 'loadBalancer'>;
  /** The port the proxies listen on and forward to (kube-apiserver's); null: probe only, no proxies. */
  port(): number | null;
  log?(line: string): void;
  /** The prober's tick (default 100 ms). */
  tickMs?: number;
}

/** Every forwarding rule's load balancer: a proxy per programmed rule and the health checks of its pool. */
export class LabLoadBalancers {
  readonly prober: HealthProber;
  private readonly proxies = new Map<string, LbProxy>();
  private reconciling: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(private readonly opts: LabLoadBalancersOptions) {
    this.prober = new HealthProber({
      targets: () => this.probeTargets(),
      ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
    });
  }

  private rules() {
    return this.opts.compute.state.forwardingRules
      .entries()
      .filter(([, e]) => !e.meta.pending)
      .map(([, e]) => e.res);
  }

  /** The legacy health check of the pool behind the rule holding `ip`; null when it has none. */
  checkOf(ip: string): HttpHealthCheckResource | null {
    const { state } = this.opts.compute;
    const rule = this.rules().find((r) => r.IPAddress === ip);
    const pool = rule && state.targetPools.entries().find(([, e]) => e.res.selfLink === rule.target)?.[1];
    const url = pool?.res.healthChecks?.[0];
    if (!url) return null;
    return state.httpHealthChecks.get(url.slice(url.lastIndexOf('/') + 1))?.res ?? null;
  }

  /** Every RUNNING member of a pool with a health check, behind a forwarding rule (GCE checks only those). */
  probeTargets(): ProbeTarget[] {
    const out: ProbeTarget[] = [];
    for (const rule of this.rules()) {
      const check = this.checkOf(rule.IPAddress);
      if (!check) continue;
      for (const m of this.opts.compute.loadBalancer(rule.IPAddress)?.members ?? []) {
        if (m.networkIP && m.status === 'RUNNING')
          out.push({ instanceIP: m.networkIP, ruleIP: rule.IPAddress, check });
      }
    }
    return out;
  }

  /**
   * Where a new connection to `ip` may go: the members that are RUNNING in
   * the pool of a programmed rule; with a health check, the healthy ones among
   * them, or all of them when none is (GCE's "force" mode of a pool without a
   * backup pool).
   */
  backends(ip: string): string[] {
    const ready = (this.opts.compute.loadBalancer(ip)?.members ?? [])
      .filter((m) => m.ready && m.networkIP !== null)
      .map((m) => m.networkIP as string);
    const check = this.checkOf(ip);
    if (!check) return ready;
    const healthy = ready.filter((h) => this.prober.healthy(h, check));
    return healthy.length > 0 ? healthy : ready;
  }

  /**
   * What targetPools.getHealth reports for a RUNNING member of a programmed
   * pool (the Compute server's checkHealth hook): with no health check GCE
   * reports it HEALTHY; with one, the prober's state.
   */
  memberHealthy(instanceIP: string | undefined, check: HttpHealthCheckResource | null): boolean {
    if (!check) return true;
    return instanceIP ? this.prober.healthy(instanceIP, check) : false;
  }

  /** The proxy on a rule's IP (tests: which backends it forwarded to). */
  proxy(ip: string): LbProxy | undefined {
    return this.proxies.get(ip);
  }

  /** Opens a proxy for every rule, closes those of rules gone. Serialized; resolves when done. */
  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(async () => {
      const port = this.opts.port();
      if (this.stopping || port === null) return;
      const ips = new Set(this.rules().map((r) => r.IPAddress));
      for (const [ip, p] of this.proxies) {
        if (ips.has(ip)) continue;
        this.proxies.delete(ip);
        await p.close();
      }
      for (const ip of ips) {
        if (this.proxies.has(ip)) continue;
        const p = new LbProxy({
          ip,
          port,
          backendPort: port,
          backends: () => this.backends(ip),
          ...(this.opts.log ? { log: this.opts.log } : {}),
        });
        try {
          await p.start();
          this.proxies.set(ip, p);
        } catch (err) {
          this.opts.log?.(`load balancer on ${ip}:${port}: ${(err as Error).message}`);
        }
      }
    });
    return this.reconciling;
  }

  start(): void {
    if (this.timer || this.stopping) return;
    this.prober.start();
    void this.reconcile();
    // Rules stop being pending with time, not only with changes.
    this.timer = setInterval(() => void this.reconcile(), 1000);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.prober.stop();
    await this.reconciling;
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
  }
}
