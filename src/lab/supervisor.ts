// The lab's supervisor: one process that serves the Compute API and the lab's
// control API on 127.N.0.1 and runs the VMs (real etcd processes). It survives
// being restarted: Compute state, addresses and etcd data live in the lab dir.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { AddressPool } from './addresses.js';
import {
  type ControlPlaneOptions,
  LAB_LEASE_TIMINGS,
  type LeaseTimings,
} from './components/control-plane.js';
import { createComputeService } from './compute/index.js';
import { DEFAULT_APISERVER_PORT, syncLabContextEndpoints } from './context.js';
import { controlHandler } from './control-routes.js';
import { Fleet, type InstanceResource, reapOrphans } from './fleet.js';
import { LabLoadBalancers } from './lb-proxy.js';
import { CLAIM_PORT, canListen, claimLoopbackBlock } from './loopback.js';

/** kube-apiserver's port when 443 cannot be bound (not root, no CAP_NET_BIND_SERVICE). */
export const FALLBACK_APISERVER_PORT = 6443;

export interface SupervisorOptions {
  dir: string;
  project: string;
  /** etcd's timing flags; unset, etcd's defaults (kube-up sets neither). */
  heartbeatMs?: number;
  electionMs?: number;
  instanceBootMs: number;
  operationStepMs: number;
  lbReadyDelayMs: number;
  /** Exit by itself after this many seconds (a safety net for tests). */
  ttlSeconds?: number;
  /**
   * kube-apiserver's port on the VMs and the load balancer. Default: env
   * KUBE_HA_LAB_APISERVER_PORT, else 443 when it can be bound, else 6443.
   */
  apiserverPort?: number;
  /**
   * Run kube-apiserver and the leader-elected components on each VM (default
   * true; env KUBE_HA_LAB_COMPONENTS=off turns them off).
   */
  controlPlane?: boolean;
  /**
   * Leader-election timings of the lab's components (default 5 s / 3.5 s /
   * 0.5 s; env KUBE_HA_LAB_LEASE_DURATION seconds, KUBE_HA_LAB_RENEW_DEADLINE_MS,
   * KUBE_HA_LAB_RETRY_PERIOD_MS).
   */
  leaseTimings?: Partial<LeaseTimings>;
}

export interface SupervisorInfo {
  pid: number;
  n: number;
  computeEndpoint: string;
  controlURL: string;
  /** kube-apiserver's port on every VM and on the load balancer's IP. */
  apiserverPort?: number;
}

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The lab's lease timings: options, then the environment, then LAB_LEASE_TIMINGS. */
export function labLeaseTimings(opts: Partial<LeaseTimings> = {}): LeaseTimings {
  return {
    leaseDurationSeconds:
      opts.leaseDurationSeconds ??
      envNumber('KUBE_HA_LAB_LEASE_DURATION') ??
      LAB_LEASE_TIMINGS.leaseDurationSeconds,
    renewDeadlineMs:
      opts.renewDeadlineMs ?? envNumber('KUBE_HA_LAB_RENEW_DEADLINE_MS') ?? LAB_LEASE_TIMINGS.renewDeadlineMs,
    retryPeriodMs:
      opts.retryPeriodMs ?? envNumber('KUBE_HA_LAB_RETRY_PERIOD_MS') ?? LAB_LEASE_TIMINGS.retryPeriodMs,
  };
}

async function chooseApiserverPort(opts: SupervisorOptions, controlIP: string): Promise<number> {
  const wanted = opts.apiserverPort ?? envNumber('KUBE_HA_LAB_APISERVER_PORT');
  if (wanted !== undefined) return wanted;
  // 443 needs root or CAP_NET_BIND_SERVICE.
  return (await canListen(controlIP, DEFAULT_APISERVER_PORT))
    ? DEFAULT_APISERVER_PORT
    : FALLBACK_APISERVER_PORT;
}

export function supervisorInfoPath(dir: string): string {
  return join(dir, 'supervisor.json');
}

export interface RunningSupervisor {
  info: SupervisorInfo;
  fleet: Fleet;
  stop(): Promise<void>;
  stopped: Promise<void>;
}

export async function startSupervisor(opts: SupervisorOptions): Promise<RunningSupervisor> {
  mkdirSync(opts.dir, { recursive: true });
  const blockFile = join(opts.dir, 'block');
  const preferred = existsSync(blockFile) ? Number(readFileSync(blockFile, 'utf8')) : undefined;

  let pool: AddressPool | null = null;
  const earlyReleases: string[] = [];
  let stopping: Promise<void> | null = null;
  let contextTimer: NodeJS.Timeout | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });

  // The hooks below run only once the server listens, when every const is set.
  const pidsFile = join(opts.dir, 'pids.json');
  await reapOrphans(pidsFile, opts.dir);
  const componentsWanted = opts.controlPlane ?? process.env.KUBE_HA_LAB_COMPONENTS !== 'off';
  // The port is settled once the loopback block is claimed, before any VM boots.
  const controlPlane: ControlPlaneOptions | null = componentsWanted
    ? { apiserverPort: DEFAULT_APISERVER_PORT, timings: labLeaseTimings(opts.leaseTimings) }
    : null;
  const fleet = new Fleet({
    dir: opts.dir,
    pidsFile,
    heartbeatMs: opts.heartbeatMs,
    electionMs: opts.electionMs,
    resolve: (name) => compute.resolveInstanceIP(name),
    ...(controlPlane ? { controlPlane } : {}),
  });
  // The load balancer of each forwarding rule, as a GCE target pool: a TCP proxy
  // on the rule's IP (only where VMs run an apiserver, once its port is settled)
  // and the legacy HTTP health checks of the pool (see lb-proxy.ts).
  let apiserverPortSettled = false;
  const loadBalancers = new LabLoadBalancers({
    // The Compute service is made below; these are only read once it serves.
    compute: {
      get state() {
        return compute.state;
      },
      loadBalancer: (ip) => compute.loadBalancer(ip),
    },
    port: () => (controlPlane && apiserverPortSettled ? controlPlane.apiserverPort : null),
    log: (line) => console.error(line),
  });
  const control = controlHandler({
    fleet,
    setFault: (f) => compute.setFault(f as Parameters<typeof compute.setFault>[0]),
    clearFaults: () => compute.clearFaults(),
    listFaults: () => compute.listFaults(),
    stopInstance: (name) => compute.stopInstance(name),
    shutdown: () => void stop(),
  });
  const compute = createComputeService({
    project: opts.project,
    stateFile: join(opts.dir, 'compute-state.json'),
    timing: {
      operationStepMs: opts.operationStepMs,
      instanceBootMs: opts.instanceBootMs,
      instanceStopMs: Math.min(opts.instanceBootMs, 500),
      lbReadyDelayMs: opts.lbReadyDelayMs,
    },
    hooks: {
      allocateIP: (kind) => pool!.allocate(kind),
      // Recovery on load may release addresses before the block (and so the pool) is known.
      releaseIP: (ip) => (pool ? pool.release(ip) : earlyReleases.push(ip)),
      onInstanceRunning: (inst) => fleet.boot(inst as InstanceResource),
      onInstanceStopping: (inst) => fleet.halt((inst as InstanceResource).name),
      onInstanceReset: (inst) => fleet.reset(inst as InstanceResource),
      onChange: () => {
        void loadBalancers.reconcile();
        syncContext();
      },
      // getHealth reports what the prober sees (every RUNNING member HEALTHY when the pool has no check).
      checkHealth: async ({ instance, healthCheck }) =>
        loadBalancers.memberHealthy(instance.networkInterfaces[0]?.networkIP, healthCheck),
    },
    fallthrough: control,
  });

  const server: Server = createServer((req, res) => {
    Promise.resolve(compute.handle(req, res)).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: String(err) } }));
    });
  });
  const block = await claimLoopbackBlock(server, preferred);
  writeFileSync(blockFile, String(block.n));
  pool = new AddressPool(block.n, join(opts.dir, 'addresses.json'));
  for (const ip of earlyReleases) pool.release(ip);
  const apiserverPort = await chooseApiserverPort(opts, block.controlIP);
  if (controlPlane) controlPlane.apiserverPort = apiserverPort;
  apiserverPortSettled = true;

  const info: SupervisorInfo = {
    pid: process.pid,
    n: block.n,
    computeEndpoint: `http://${block.controlIP}:${CLAIM_PORT}`,
    controlURL: `http://${block.controlIP}:${CLAIM_PORT}/lab/v1`,
    ...(controlPlane ? { apiserverPort } : {}),
  };
  writeFileSync(supervisorInfoPath(opts.dir), JSON.stringify(info, null, 2));

  // Instances that were RUNNING when a previous supervisor stopped boot again.
  await compute.resumeRunningInstances();
  syncContext();
  // Also after `lab up` resumed a lab: it rewrites the context it read before this supervisor started.
  contextTimer = setInterval(syncContext, 1000);
  loadBalancers.start();

  const ttl = opts.ttlSeconds ? setTimeout(() => void stop(), opts.ttlSeconds * 1000) : null;
  ttl?.unref();

  /**
   * The lab owns its context: context.json's etcd endpoints are the replicas'
   * internal IPs, rewritten when that set changes (see syncLabContextEndpoints):
   * every instance once its insert is done and until its delete begins. A
   * stopped (TERMINATED) one keeps its IP and its member, so its endpoint stays.
   */
  function syncContext(): void {
    if (stopping) return;
    try {
      const deleting = (op: string | undefined) =>
        op !== undefined && compute.state.operations.get(op)?.action.type === 'instances.delete';
      const ips = compute.state.instances
        .entries()
        .filter(([, e]) => !e.meta.pending && !deleting(e.meta.busyOp))
        .map(([, e]) => e.res.networkInterfaces[0]?.networkIP)
        .filter((ip): ip is string => Boolean(ip));
      syncLabContextEndpoints(opts.dir, ips);
    } catch (err) {
      console.error(`context.json: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (ttl) clearTimeout(ttl);
      if (contextTimer) clearInterval(contextTimer);
      await loadBalancers.stop();
      await fleet.stopAll();
      await compute.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      resolveStopped();
    })();
    return stopping;
  }

  return { info, fleet, stop, stopped };
}
