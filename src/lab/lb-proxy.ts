// The lab's network load balancer: a TCP proxy on a forwarding rule's IP that
// sends each connection to a target-pool member that is ready (the Compute
// server's view: RUNNING, in the pool, programmed) and whose kube-apiserver
// /healthz answered "ok" at the last health probe, as GCE's health-checked
// target pools do. With no such member, connections are dropped.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { apiserverURL, probeApiserver } from '../sources/apiserver.js';
import { listenExclusive } from './loopback.js';

export interface HealthProberOptions {
  /** The members' apiserver port (a function: the lab settles it after the prober exists). */
  port: number | (() => number);
  intervalMs?: number;
  timeoutMs?: number;
  /** The member IPs to probe now. */
  targets(): string[];
}

interface Probe {
  healthy: boolean;
  at: number;
}

/** Probes each target's /healthz every interval and remembers the last answer. */
export class HealthProber {
  private readonly results = new Map<string, Probe>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: HealthProberOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    void this.round();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const targets = new Set(this.opts.targets());
      for (const ip of this.results.keys()) if (!targets.has(ip)) this.results.delete(ip);
      await Promise.all([...targets].map((ip) => this.probe(ip)));
    } finally {
      this.running = false;
    }
  }

  private async probe(ip: string): Promise<boolean> {
    const port = typeof this.opts.port === 'function' ? this.opts.port() : this.opts.port;
    const r = await probeApiserver(ip, apiserverURL(ip, port), { timeoutMs: this.timeoutMs });
    this.results.set(ip, { healthy: r.healthy, at: Date.now() });
    return r.healthy;
  }

  /** The last answer; false when never probed. */
  healthy(ip: string): boolean {
    return this.results.get(ip)?.healthy ?? false;
  }

  /** A fresh answer (probing now when the last one is older than an interval), for getHealth. */
  async check(ip: string): Promise<boolean> {
    const last = this.results.get(ip);
    if (last && Date.now() - last.at <= this.intervalMs) return last.healthy;
    return this.probe(ip);
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
    // Round robin, starting after the last one used; a refused connect tries the next member.
    const start = this.next++;
    const order = backends.map((_, i) => backends[(start + i) % backends.length] as string);
    this.forward(client, order);
  }

  private forward(client: Socket, order: string[]): void {
    const host = order.shift();
    if (host === undefined || client.destroyed) {
      this.dropped++;
      client.destroy();
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
        this.opts.log?.(`lb ${this.opts.ip}: ${host} refused (${err.message}), trying the next member`);
        upstream.destroy();
        this.forward(client, order);
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
