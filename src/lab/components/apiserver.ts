// A simulated kube-apiserver for a lab VM: an HTTPS server on the VM's
// internal IP answering /healthz, /readyz and /livez the way the real one does
// (k8s.io/apiserver pkg/server/healthz handleRootHealth): 200 "ok" when every
// check passes; otherwise 500 with every check as `[+]NAME ok` or
// `[-]NAME failed: reason withheld` and a last line `<path> check failed`.
// The checks, as kube-apiserver 1.26+ registers them: ping, log and etcd on all
// three; etcd-readiness and shutdown on /readyz only. etcd passes while the
// local etcd main member answers and sees a leader: the check asks the member
// for its own status (no linearizable read, so it stays quick), bounded by a
// deadline, and is shared by requests arriving together. shutdown fails from
// the moment a graceful termination begins (genericapiserver's
// ShutdownDelayDuration window: /readyz fails so load balancers drain the
// replica while /livez stays ok): setReady(false), `kube-ha lab apiserver NAME
// --not-ready`, rehearses that state, alive but not ready.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { errorMessage } from '../../net/etcd-client.js';
import { listenExclusive } from '../loopback.js';

export interface SimulatedApiserverOptions {
  /** The VM's name (for messages). */
  name: string;
  ip: string;
  port: number;
  tls: { certFile: string; keyFile: string };
  /** A client of this VM's own etcd main member only. Not closed here. */
  etcd: Etcd3;
  /** Deadline of the etcd check (default 1000 ms). */
  checkTimeoutMs?: number;
  /** A check result is reused for this long (default 250 ms): health checkers poll often. */
  cacheMs?: number;
  /** Where the reasons the answers withhold go (when the etcd check changes). */
  log?(line: string): void;
}

export const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

/** The checks each path runs, in the order kube-apiserver lists them. */
const CHECKS: Record<string, readonly string[]> = {
  '/healthz': ['ping', 'log', 'etcd'],
  '/livez': ['ping', 'log', 'etcd'],
  '/readyz': ['ping', 'log', 'etcd', 'etcd-readiness', 'shutdown'],
};

/** Every apiserver listening in this process, by URL: the lab's control routes reach one through it. */
const LISTENING = new Map<string, SimulatedApiserver>();

/** The simulated apiserver listening at `url` (`https://ip:port`), if any. */
export function listeningApiserver(url: string): SimulatedApiserver | undefined {
  return LISTENING.get(url);
}

interface CheckResult {
  ok: boolean;
  detail: string;
  at: number;
}

export class SimulatedApiserver {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private paused = false;
  /** Requests that arrived while paused: a frozen process answers them when it wakes, if they are still open. */
  private held: (() => void)[] = [];
  private last: CheckResult | null = null;
  private inflight: Promise<CheckResult> | null = null;
  /** In its graceful-termination window: /readyz fails its shutdown check, the rest answers. */
  private shuttingDown = false;

  constructor(private readonly opts: SimulatedApiserverOptions) {}

  get url(): string {
    return `https://${this.opts.ip}:${this.opts.port}`;
  }

  /** Listens; rejects when the address cannot be bound (EACCES, EADDRINUSE). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer(
      { cert: readFileSync(this.opts.tls.certFile), key: readFileSync(this.opts.tls.keyFile) },
      (req, res) => this.onRequest(req, res),
    );
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // TLS errors from probes that give up mid-handshake are not the server's problem.
    server.on('tlsClientError', () => {});
    await listenExclusive(server, this.opts.ip, this.opts.port);
    this.server = server;
    LISTENING.set(this.url, this);
  }

  /** false: alive but not ready (/readyz fails `shutdown`); true: ready again. A new process starts ready. */
  setReady(ready: boolean): void {
    this.shuttingDown = !ready;
  }

  get ready(): boolean {
    return !this.shuttingDown;
  }

  /** Stops answering (the process is frozen): requests wait until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const h of held) h();
  }

  /** Closes the listener and every connection at once (a crash or a stop alike: nothing is drained). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.held = [];
    if (!server) return;
    if (LISTENING.get(this.url) === this) LISTENING.delete(this.url);
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.paused) {
      this.held.push(() => {
        if (!res.destroyed) this.onRequest(req, res);
      });
      return;
    }
    const path = new URL(req.url ?? '/', 'https://apiserver.invalid').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.send(res, 405, 'method not allowed');
      return;
    }
    if (!HEALTH_PATHS.has(path)) {
      this.send(res, 404, `404 page not found: ${path}`);
      return;
    }
    void this.check().then((r) => {
      if (res.destroyed) return;
      if (this.paused) {
        this.held.push(() => this.onRequest(req, res));
        return;
      }
      const failed = new Set<string>();
      if (!r.ok) failed.add('etcd').add('etcd-readiness');
      if (this.shuttingDown) failed.add('shutdown');
      const checks = CHECKS[path] ?? [];
      if (!checks.some((c) => failed.has(c))) return this.send(res, 200, 'ok');
      // The real one withholds the reasons from the body and logs them.
      const lines = checks.map((c) => (failed.has(c) ? `[-]${c} failed: reason withheld` : `[+]${c} ok`));
      this.send(res, 500, `${lines.join('\n')}\n${path.slice(1)} check failed\n`);
    });
  }

  private send(res: ServerResponse, code: number, body: string): void {
    res.writeHead(code, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  /** Whether the local etcd member answers and sees a leader. */
  check(): Promise<CheckResult> {
    const cacheMs = this.opts.cacheMs ?? 250;
    if (this.last && Date.now() - this.last.at < cacheMs) return Promise.resolve(this.last);
    this.inflight ??= this.runCheck().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async runCheck(): Promise<CheckResult> {
    const timeout = this.opts.checkTimeoutMs ?? 1000;
    let result: CheckResult;
    try {
      const s = await this.opts.etcd.maintenance.status({ deadline: Date.now() + timeout });
      const leader = String(s.leader);
      result =
        leader === '0'
          ? { ok: false, detail: 'local member sees no leader', at: Date.now() }
          : { ok: true, detail: 'ok', at: Date.now() };
    } catch (err) {
      result = { ok: false, detail: errorMessage(err), at: Date.now() };
    }
    if (result.ok !== (this.last?.ok ?? true))
      this.opts.log?.(`kube-apiserver etcd check ${result.ok ? 'ok again' : `failed: ${result.detail}`}`);
    this.last = result;
    return result;
  }
}
