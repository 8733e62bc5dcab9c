// `kube-ha lab ...`: start, stop and break the local HA lab.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regionOfZone } from '../domain/names.js';
import { issueCert } from '../lab/certs.js';
import { contextPath, writeLabContext } from '../lab/context.js';
import { type SupervisorInfo, type SupervisorOptions, supervisorInfoPath } from '../lab/supervisor.js';
import { EtcdClusterSource } from '../sources/etcd.js';
import { defaultLabDir } from './paths.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

const DEFAULT_ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c'];
const LAB_ENTRIES = [
  'context.json',
  'supervisor.json',
  'compute-state.json',
  'addresses.json',
  'block',
  'disks',
  'pki',
  'logs',
  'supervisor.log',
];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readSupervisorInfo(dir: string): SupervisorInfo | null {
  try {
    return JSON.parse(readFileSync(supervisorInfoPath(dir), 'utf8')) as SupervisorInfo;
  } catch {
    return null;
  }
}

export function labRunning(dir: string): SupervisorInfo | null {
  const info = readSupervisorInfo(dir);
  return info && alive(info.pid) && existsSync(contextPath(dir)) ? info : null;
}

function number(v: unknown, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag}: '${v}' must be a number from ${min} to ${max}`);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | null> | T | null,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

function removeLabFiles(dir: string): void {
  for (const e of LAB_ENTRIES) rmSync(join(dir, e), { recursive: true, force: true });
}

export interface LabUpOptions {
  dir: string;
  zones: string[];
  replicas: number;
  lbDelaySeconds: number;
  project: string;
  masterName: string;
  heartbeatMs: number;
  electionMs: number;
  bootMs: number;
  ttlSeconds?: number;
  log?: (line: string) => void;
}

export async function labUp(o: LabUpOptions): Promise<{ names: string[]; seconds: number }> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  if (labRunning(o.dir))
    throw new UsageError(`a lab is already running in ${o.dir} (kube-ha lab down --dir ${o.dir})`);
  const stale = readSupervisorInfo(o.dir);
  if (stale && alive(stale.pid)) process.kill(stale.pid, 'SIGTERM');
  removeLabFiles(o.dir);
  mkdirSync(o.dir, { recursive: true });

  const supOpts: SupervisorOptions = {
    dir: o.dir,
    project: o.project,
    heartbeatMs: o.heartbeatMs,
    electionMs: o.electionMs,
    instanceBootMs: o.bootMs,
    operationStepMs: 100,
    lbReadyDelayMs: o.lbDelaySeconds * 1000,
    ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}),
  };
  const logFd = openSync(join(o.dir, 'supervisor.log'), 'a');
  const daemon = fileURLToPath(new URL('../lab/daemon.js', import.meta.url));
  const child = spawn(process.execPath, [daemon, JSON.stringify(supOpts)], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  child.unref();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const info = await waitFor('the lab supervisor', 15_000, () => {
    if (exited) {
      const tail = readFileSync(join(o.dir, 'supervisor.log'), 'utf8')
        .trim()
        .split('\n')
        .slice(-5)
        .join('\n');
      throw new Error(`the lab supervisor exited:\n${tail}`);
    }
    const i = readSupervisorInfo(o.dir);
    return i && i.pid === child.pid ? i : null;
  });
  log(`supervisor ${info.pid} serving the Compute API at ${info.computeEndpoint}`);

  try {
    const { createComputeClients } = await import('../gce/clients.js');
    const { buildTopology } = await import('../lab/topology.js');
    const clients = await createComputeClients({ endpoint: info.computeEndpoint, timeoutMs: 30_000 });
    let names: string[];
    try {
      names = await buildTopology(clients, {
        project: o.project,
        zones: o.zones,
        replicas: o.replicas,
        masterName: o.masterName,
      });
    } finally {
      await clients.close();
    }
    log(`replicas ${names.join(', ')} created; waiting for etcd`);

    const vms = (await (await fetch(`${info.controlURL}/vms`)).json()) as { vms: { internalIP: string }[] };
    const pki = join(o.dir, 'pki');
    const client = await issueCert(pki, 'kube-ha-client', { clientOnly: true });
    const mainEndpoints = vms.vms.map((v) => `https://${v.internalIP}:2379`);
    const eventsEndpoints = vms.vms.map((v) => `http://${v.internalIP}:4002`);
    const tls = { caFile: client.caFile, certFile: client.certFile, keyFile: client.keyFile };
    for (const [cluster, endpoints, t] of [
      ['main', mainEndpoints, tls],
      ['events', eventsEndpoints, null],
    ] as const) {
      const src = new EtcdClusterSource(cluster, { endpoints: [...endpoints], tls: t }, 1500);
      try {
        await waitFor(`etcd ${cluster} to be healthy`, 60_000, async () => {
          const obs = await src.observe();
          const healthy = obs.statuses.filter((s) => s.ok && s.leaderId && s.leaderId !== '0');
          return obs.members?.length === o.replicas && healthy.length === o.replicas ? true : null;
        });
      } finally {
        src.close();
      }
    }
    writeLabContext(o.dir, {
      project: o.project,
      region: regionOfZone(o.zones[0]!),
      masterName: o.masterName,
      computeEndpoint: info.computeEndpoint,
      controlURL: info.controlURL,
      supervisorPid: info.pid,
      etcd: { main: { endpoints: mainEndpoints, ...tls }, events: { endpoints: eventsEndpoints } },
      createdAt: new Date().toISOString(),
    });
    return { names, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await labDown(o.dir).catch(() => {});
    throw err;
  }
}

export async function labDown(dir: string): Promise<boolean> {
  const info = readSupervisorInfo(dir);
  if (!info) {
    removeLabFiles(dir);
    return false;
  }
  let pids: number[] = [];
  if (alive(info.pid)) {
    try {
      const res = await fetch(`${info.controlURL}/vms`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { vms: { pids: Record<string, number> }[] };
      pids = body.vms.flatMap((v) => Object.values(v.pids));
      await fetch(`${info.controlURL}/shutdown`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    } catch {
      process.kill(info.pid, 'SIGTERM');
    }
    try {
      await waitFor('the lab supervisor to stop', 10_000, () => (alive(info.pid) ? null : true));
    } catch {
      process.kill(info.pid, 'SIGKILL');
    }
  }
  // Anything the supervisor could not stop (it was killed) goes now.
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  removeLabFiles(dir);
  return true;
}

async function vmAction(dir: string, name: string, action: string): Promise<number> {
  const info = labRunning(dir);
  if (!info) throw new Error(`no lab running in ${dir}`);
  const res = await fetch(`${info.controlURL}/vms/${encodeURIComponent(name)}/${action}`, {
    method: 'POST',
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { error?: string };
  if (!res.ok) {
    process.stderr.write(`kube-ha: lab ${action} ${name}: ${body.error ?? res.status}\n`);
    return EXIT.failure;
  }
  process.stdout.write(
    `${name}: ${action === 'crash' ? 'crashed' : action === 'restart' ? 'restarted' : `${action === 'freeze' ? 'frozen' : 'thawed'}`}\n`,
  );
  return EXIT.ok;
}

export async function labCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseFlags(rest, {
    dir: { type: 'string' },
    zones: { type: 'string' },
    replicas: { type: 'string' },
    'lb-delay': { type: 'string' },
    project: { type: 'string' },
    'master-name': { type: 'string' },
    heartbeat: { type: 'string' },
    election: { type: 'string' },
    'boot-ms': { type: 'string' },
    ttl: { type: 'string' },
  });
  const dir = resolve(values.dir ?? defaultLabDir());
  switch (sub) {
    case 'up': {
      if (positionals.length)
        throw new UsageError(`lab up takes no arguments (got ${positionals.join(' ')})`);
      const zones = (values.zones ?? DEFAULT_ZONES.join(','))
        .split(',')
        .map((z) => z.trim())
        .filter(Boolean);
      if (!zones.length) throw new UsageError('--zones: no zones given');
      const regions = new Set(zones.map(regionOfZone));
      if (regions.size > 1)
        throw new UsageError(`--zones: all zones must be in one region (got ${[...regions].join(', ')})`);
      const replicas = number(values.replicas, '--replicas', 1, 9) ?? zones.length;
      const heartbeatMs = number(values.heartbeat, '--heartbeat', 10, 5000) ?? 50;
      const electionMs = number(values.election, '--election', 50, 50000) ?? 250;
      if (electionMs < heartbeatMs * 5)
        throw new UsageError('--election must be at least 5 times --heartbeat (etcd rule)');
      const ttl = number(values.ttl, '--ttl', 1, 86400);
      const { names, seconds } = await labUp({
        dir,
        zones,
        replicas,
        lbDelaySeconds: number(values['lb-delay'], '--lb-delay', 0, 3600) ?? 10,
        project: values.project ?? 'kube-ha-lab',
        masterName: values['master-name'] ?? 'kubernetes-master',
        heartbeatMs,
        electionMs,
        bootMs: number(values['boot-ms'], '--boot-ms', 0, 60000) ?? 1000,
        ...(ttl ? { ttlSeconds: ttl } : {}),
        log: (l) => process.stderr.write(`lab: ${l}\n`),
      });
      process.stdout.write(
        `lab up in ${seconds.toFixed(1)} s: ${names.length} replicas (${names.join(', ')}) in ${zones.join(', ')}\n` +
          `  status: kube-ha status --lab${values.dir ? `-dir ${dir}` : ''}\n`,
      );
      return EXIT.ok;
    }
    case 'down': {
      const had = await labDown(dir);
      process.stdout.write(had ? `lab in ${dir} stopped and removed\n` : `no lab in ${dir}\n`);
      return EXIT.ok;
    }
    case 'status': {
      const info = labRunning(dir);
      if (!info) {
        process.stdout.write(`no lab running in ${dir}\n`);
        return EXIT.failure;
      }
      const body = (await (
        await fetch(`${info.controlURL}/vms`, { signal: AbortSignal.timeout(2000) })
      ).json()) as {
        vms: {
          name: string;
          zone: string;
          internalIP: string;
          state: string;
          pids: Record<string, number>;
        }[];
      };
      process.stdout.write(`lab in ${dir}: supervisor ${info.pid}, Compute API ${info.computeEndpoint}\n`);
      for (const v of body.vms) {
        process.stdout.write(
          `  ${v.name.padEnd(28)} ${v.zone.padEnd(16)} ${v.internalIP.padEnd(14)} ${v.state}\n`,
        );
      }
      return EXIT.ok;
    }
    case 'crash':
    case 'restart':
    case 'freeze':
    case 'thaw': {
      const name = positionals[0];
      if (!name || positionals.length > 1) throw new UsageError(`usage: kube-ha lab ${sub} NAME [--dir DIR]`);
      return vmAction(dir, name, sub);
    }
    default:
      throw new UsageError(
        `usage: kube-ha lab up|down|status|crash|restart|freeze|thaw (got '${sub ?? ''}')`,
      );
  }
}
