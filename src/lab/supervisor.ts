// The lab's supervisor: one process that serves the Compute API and the lab's
// control API on 127.N.0.1 and runs the VMs (real etcd processes). It survives
// being restarted: Compute state, addresses and etcd data live in the lab dir.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { AddressPool } from './addresses.js';
import { createComputeService } from './compute/index.js';
import { controlHandler } from './control-routes.js';
import { Fleet, type InstanceResource, reapOrphans } from './fleet.js';
import { CLAIM_PORT, claimLoopbackBlock } from './loopback.js';

export interface SupervisorOptions {
  dir: string;
  project: string;
  heartbeatMs: number;
  electionMs: number;
  instanceBootMs: number;
  operationStepMs: number;
  lbReadyDelayMs: number;
  /** Exit by itself after this many seconds (a safety net for tests). */
  ttlSeconds?: number;
}

export interface SupervisorInfo {
  pid: number;
  n: number;
  computeEndpoint: string;
  controlURL: string;
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
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });

  // The hooks below run only once the server listens, when every const is set.
  const pidsFile = join(opts.dir, 'pids.json');
  await reapOrphans(pidsFile, opts.dir);
  const fleet = new Fleet({
    dir: opts.dir,
    pidsFile,
    heartbeatMs: opts.heartbeatMs,
    electionMs: opts.electionMs,
    resolve: (name) => compute.resolveInstanceIP(name),
  });
  const control = controlHandler({
    fleet,
    setFault: (f) => compute.setFault(f as Parameters<typeof compute.setFault>[0]),
    clearFaults: () => compute.clearFaults(),
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

  const info: SupervisorInfo = {
    pid: process.pid,
    n: block.n,
    computeEndpoint: `http://${block.controlIP}:${CLAIM_PORT}`,
    controlURL: `http://${block.controlIP}:${CLAIM_PORT}/lab/v1`,
  };
  writeFileSync(supervisorInfoPath(opts.dir), JSON.stringify(info, null, 2));

  // Instances that were RUNNING when a previous supervisor stopped boot again.
  await compute.resumeRunningInstances();

  const ttl = opts.ttlSeconds ? setTimeout(() => void stop(), opts.ttlSeconds * 1000) : null;
  ttl?.unref();

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (ttl) clearTimeout(ttl);
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
