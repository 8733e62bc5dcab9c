// One lab VM's Kubernetes control-plane components, in the supervisor's own
// process: kube-apiserver (simulated, see apiserver.ts) and the leader
// electors of kube-controller-manager, kube-scheduler and cluster-autoscaler,
// each with its own etcd client pointed at this VM's etcd main member. They
// start and stop with the VM: a crash ends them without a word (no lease is
// released), a freeze makes them stop answering and renewing until thawed.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../net/etcd-client.js';
import { issueCert } from '../../pki/certs.js';
import { SimulatedApiserver } from './apiserver.js';
import {
  defaultIdentity,
  type LeaderComponent,
  type LeaderElector,
  startLeaderElector,
} from './leader-elector.js';

export interface LeaseTimings {
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * The lab's default: kube-controller-manager's and kube-scheduler's own
 * defaults (--leader-elect-lease-duration 15s, --leader-elect-renew-deadline
 * 10s, --leader-elect-retry-period 2s), so that the lab writes to etcd and
 * fails over as a real control plane does. A leader renews every retry period;
 * a crashed leader's lease moves once the others have seen it unchanged for a
 * lease duration, checking every retry period with up to 120 % jitter.
 */
export const LAB_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationSeconds: 15,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2000,
};

/**
 * Short timings for tests and quick demos (`lab up --leader-elect-lease-duration
 * 5s --leader-elect-renew-deadline 3.5s --leader-elect-retry-period 0.5s`): a
 * crashed leader's lease moves within 5 s + 2 x 0.6 s. The leaders then write
 * four times as often as on a real control plane.
 */
export const FAST_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationSeconds: 5,
  renewDeadlineMs: 3500,
  retryPeriodMs: 500,
};

/** `lab up`'s flags for these timings. */
export function leaseTimingArgs(t: LeaseTimings): string[] {
  return [
    '--leader-elect-lease-duration',
    `${t.leaseDurationSeconds}s`,
    '--leader-elect-renew-deadline',
    `${t.renewDeadlineMs}ms`,
    '--leader-elect-retry-period',
    `${t.retryPeriodMs}ms`,
  ];
}

export const LAB_COMPONENTS: readonly LeaderComponent[] = [
  'kube-controller-manager',
  'kube-scheduler',
  'cluster-autoscaler',
];

export interface ControlPlaneOptions {
  /** kube-apiserver's port on the VM's internal IP. */
  apiserverPort: number;
  timings?: Partial<LeaseTimings>;
  components?: readonly LeaderComponent[];
  /** kube-apiserver's --etcd-prefix. */
  etcdPrefix?: string;
}

/** How kube-apiserver reaches its local etcd main member (configure-kubeapiserver.sh configure-etcd-params). */
export interface LocalEtcd {
  endpoint: string;
  /** The VM's etcd-apiserver-client pair and CA; null: plain http (no ETCD_APISERVER_* set). */
  tls: { caFile: string; certFile: string; keyFile: string } | null;
  /** The name the member's server certificate carries (`etcd-<instance>`). */
  serverName: string | null;
}

export interface ControlPlaneVm {
  name: string;
  internalIP: string;
  pkiDir: string;
  logDir: string;
  /** Read at start: the VM writes its certificates at boot. */
  etcd(): LocalEtcd;
}

export interface ControlPlaneInfo {
  state: 'stopped' | 'running' | 'frozen';
  /** null when the apiserver could not listen (see the VM's control-plane log). */
  apiserver: string | null;
  /** Components whose lease this VM holds right now. */
  leading: string[];
}

const ETCD_CALL_TIMEOUT_MS = 2000;

export class VmControlPlane {
  private state: ControlPlaneInfo['state'] = 'stopped';
  private apiserver: SimulatedApiserver | null = null;
  private electors = new Map<string, { elector: LeaderElector; client: Etcd3 }>();
  private clients: Etcd3[] = [];
  /** Identities kept across a freeze: a process that was paused is the same process when it wakes. */
  private identities = new Map<string, string>();
  private stopping: Promise<unknown> = Promise.resolve();
  private log: WriteStream | null = null;
  private readonly timings: LeaseTimings;
  private readonly components: readonly LeaderComponent[];

  constructor(
    private readonly vm: ControlPlaneVm,
    private readonly opts: ControlPlaneOptions,
  ) {
    this.timings = { ...LAB_LEASE_TIMINGS, ...opts.timings };
    this.components = opts.components ?? LAB_COMPONENTS;
  }

  private write(line: string): void {
    this.log?.write(`${new Date().toISOString()} ${line}\n`);
  }

  private async client(): Promise<Etcd3> {
    const etcd = this.vm.etcd();
    const c = createEtcdClient(etcd.endpoint, {
      tls: etcd.tls,
      timeoutMs: ETCD_CALL_TIMEOUT_MS,
      serverName: etcd.serverName,
    });
    this.clients.push(c);
    return c;
  }

  /** Starts the apiserver and the electors; a port that cannot be bound leaves the apiserver out, logged. */
  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    await this.stopping;
    mkdirSync(this.vm.logDir, { recursive: true });
    this.log ??= createWriteStream(join(this.vm.logDir, `${this.vm.name}-control-plane.log`), { flags: 'a' });
    this.identities.clear();
    const tls = await issueCert(this.vm.pkiDir, `${this.vm.name}-apiserver`, {
      ips: [this.vm.internalIP, '127.0.0.1'],
      dns: [this.vm.name, 'kubernetes', 'kubernetes.default', 'localhost'],
    });
    const api = new SimulatedApiserver({
      name: this.vm.name,
      ip: this.vm.internalIP,
      port: this.opts.apiserverPort,
      tls,
      etcd: await this.client(),
      log: (line) => this.write(line),
    });
    try {
      await api.start();
      this.apiserver = api;
      this.write(`kube-apiserver listening on ${api.url}`);
    } catch (err) {
      this.write(`kube-apiserver cannot listen on ${api.url}: ${(err as Error).message}`);
    }
    for (const c of this.components) {
      this.identities.set(c, defaultIdentity(c, this.vm.name));
      await this.startElector(c);
    }
    this.state = 'running';
  }

  private async startElector(component: LeaderComponent): Promise<void> {
    const t = this.timings;
    const client = await this.client();
    const elector = startLeaderElector({
      client,
      component,
      hostname: this.vm.name,
      identity: this.identities.get(component),
      prefix: this.opts.etcdPrefix ?? '/registry',
      leaseDurationSeconds: t.leaseDurationSeconds,
      renewDeadlineMs: t.renewDeadlineMs,
      retryPeriodMs: t.retryPeriodMs,
      log: (line) => this.write(line),
    });
    this.electors.set(component, { elector, client });
  }

  /** The host dies: connections drop, nothing more is written (no lease is released). */
  async crash(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    // Closing the clients first cancels calls in flight: a dead process finishes no write.
    const clients = this.clients;
    this.clients = [];
    for (const c of clients) c.close();
    const electors = [...this.electors.values()];
    this.electors.clear();
    const api = this.apiserver;
    this.apiserver = null;
    this.stopping = Promise.all([
      ...electors.map((e) => e.elector.stop({ graceful: false })),
      api?.close(),
      this.stopping,
    ]);
    await this.stopping;
    this.write('crashed');
  }

  /** A clean shutdown: the scheduler and cluster-autoscaler release their leases, as the real ones do. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'frozen') this.thaw();
    await this.stopping;
    this.state = 'stopped';
    const electors = [...this.electors.values()];
    this.electors.clear();
    await Promise.all(electors.map((e) => e.elector.stop()));
    await this.apiserver?.close();
    this.apiserver = null;
    for (const c of this.clients) c.close();
    this.clients = [];
    this.write('stopped');
    this.log?.end();
    this.log = null;
  }

  /** The host hangs: the apiserver stops answering and the electors stop renewing. */
  freeze(): void {
    if (this.state !== 'running') return;
    this.state = 'frozen';
    this.apiserver?.pause();
    const electors = [...this.electors.values()];
    this.electors.clear();
    const stopped = electors.map(async ({ elector, client }) => {
      await elector.stop({ graceful: false });
      client.close();
      this.clients = this.clients.filter((c) => c !== client);
    });
    this.stopping = Promise.all([...stopped, this.stopping]);
    this.write('frozen');
  }

  /** The host wakes: the same processes carry on (same identities), finding out whether they lost their leases. */
  thaw(): void {
    if (this.state !== 'frozen') return;
    this.state = 'running';
    this.apiserver?.resume();
    const before = this.stopping;
    this.stopping = (async () => {
      await before;
      if (this.state !== 'running') return;
      for (const c of this.components) await this.startElector(c);
      this.write('thawed');
    })().catch((err) => this.write(`thaw failed: ${(err as Error).message}`));
  }

  describe(): ControlPlaneInfo {
    return {
      state: this.state,
      apiserver: this.apiserver?.url ?? null,
      leading: [...this.electors.entries()].filter(([, e]) => e.elector.isLeader()).map(([c]) => c),
    };
  }
}
