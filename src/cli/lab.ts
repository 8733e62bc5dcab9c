// `kube-ha lab ...`: start and stop the local HA lab (up, down, resume with
// the directory guard and the supervisor's start: one lifecycle, hence ~500
// lines); lab-vm.ts has the commands against a running lab, lab-fill.ts fill.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regionOfZone } from '../domain/names.js';
import { LAB_LEASE_TIMINGS, type LeaseTimings } from '../lab/components/control-plane.js';
import { leaseTimingsProblem } from '../lab/components/leader-elector.js';
import { contextPath, type LabContext, readLabContext, writeLabContext } from '../lab/context.js';
import { reapOrphans } from '../lab/fleet.js';
import { processAlive } from '../lab/processes.js';
import { type SupervisorInfo, type SupervisorOptions, supervisorInfoPath } from '../lab/supervisor.js';
import { ensureCA, issueCert } from '../pki/certs.js';
import { EtcdClusterSource } from '../sources/etcd.js';
import { defaultLabDir } from './paths.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

const DEFAULT_ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c'];
/** Written by `lab up`: what tells a lab's directory from any other. */
const LAB_MARKER = '.kube-ha-lab';

const LAB_ENTRIES = [
  LAB_MARKER,
  'lab-options.json',
  'pids.json',
  'context.json',
  'supervisor.json',
  'compute-state.json',
  'addresses.json',
  'block',
  'disks',
  // Each VM's boot disk (/home/kubernetes) and the lab's /etc/hosts.
  'vms',
  'hosts',
  'pki',
  'logs',
  'supervisor.log',
];

export function readSupervisorInfo(dir: string): SupervisorInfo | null {
  try {
    return JSON.parse(readFileSync(supervisorInfoPath(dir), 'utf8')) as SupervisorInfo;
  } catch {
    return null;
  }
}

export function labRunning(dir: string): SupervisorInfo | null {
  const info = readSupervisorInfo(dir);
  return info && processAlive(info.pid) && existsSync(contextPath(dir)) ? info : null;
}

/**
 * A Go-style duration as kube-controller-manager's flags take it ("15s",
 * "500ms", "1.5s", "1m"), in milliseconds.
 */
export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: '${v}' is not a duration (like 15s, 500ms, 1.5s, 1m)`);
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
  if (n <= 0 || n > 3_600_000) throw new UsageError(`${flag}: '${v}' must be more than 0 and at most 1h`);
  return n;
}

/** `lab up`'s --leader-elect-* flags; undefined when none is given (the lab's default). */
export function leaseTimingFlags(values: {
  'leader-elect-lease-duration'?: string | undefined;
  'leader-elect-renew-deadline'?: string | undefined;
  'leader-elect-retry-period'?: string | undefined;
}): LeaseTimings | undefined {
  const d = values['leader-elect-lease-duration'];
  const r = values['leader-elect-renew-deadline'];
  const p = values['leader-elect-retry-period'];
  if (d === undefined && r === undefined && p === undefined) return undefined;
  const durationMs =
    d === undefined
      ? LAB_LEASE_TIMINGS.leaseDurationSeconds * 1000
      : parseDuration(d, '--leader-elect-lease-duration');
  if (durationMs % 1000 !== 0)
    throw new UsageError(
      `--leader-elect-lease-duration: '${d}' must be whole seconds (the Lease object holds seconds)`,
    );
  const t: LeaseTimings = {
    leaseDurationSeconds: durationMs / 1000,
    renewDeadlineMs:
      r === undefined ? LAB_LEASE_TIMINGS.renewDeadlineMs : parseDuration(r, '--leader-elect-renew-deadline'),
    retryPeriodMs:
      p === undefined ? LAB_LEASE_TIMINGS.retryPeriodMs : parseDuration(p, '--leader-elect-retry-period'),
  };
  const problem = leaseTimingsProblem(t);
  if (problem) throw new UsageError(`--leader-elect-*: ${problem}`);
  return t;
}

export function number(v: unknown, flag: string, min: number, max: number): number | undefined {
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

/**
 * `lab up` and `lab down` delete pki/, logs/, disks/ ... in their directory:
 * only in one that holds a lab (its marker, or the files of a lab made before
 * the marker existed) or holds nothing. Anything else is a usage error.
 */
export function assertLabDir(dir: string, action: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // not there: nothing to delete
  }
  if (entries.length === 0) return;
  if ([LAB_MARKER, 'context.json', 'supervisor.json', 'lab-options.json'].some((f) => entries.includes(f)))
    return;
  throw new UsageError(
    `${dir} does not hold a kube-ha lab (no ${LAB_MARKER}): lab ${action} changes only a lab's directory or an empty one`,
  );
}

function removeLabFiles(dir: string): void {
  for (const e of LAB_ENTRIES) rmSync(join(dir, e), { recursive: true, force: true });
}

/** A pid from supervisor.json is signalled only if it is still this lab's supervisor (pids are reused). */
function isLabSupervisor(pid: number, dir: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('daemon.js') && cmdline.includes(JSON.stringify(dir).slice(1, -1));
  } catch {
    return false;
  }
}

export interface LabUpOptions {
  dir: string;
  zones: string[];
  replicas: number;
  lbDelaySeconds: number;
  project: string;
  masterName: string;
  /** etcd's --heartbeat-interval / --election-timeout; unset, etcd's defaults, as kube-up leaves them. */
  heartbeatMs?: number | undefined;
  electionMs?: number | undefined;
  /** etcd's --quota-backend-bytes on every member, as ETCD_QUOTA_BACKEND_BYTES in kube-env (unset: kube-up's 4 GiB). */
  quotaBackendBytes?: number | undefined;
  /** The replicas' etcd certificates valid this many days (kube-up: 5 years), to rehearse their expiry. */
  certDays?: number | undefined;
  bootMs: number;
  /** The lab components' leader election; default Kubernetes' 15 s / 10 s / 2 s. */
  leaseTimings?: LeaseTimings;
  ttlSeconds?: number;
  log?: (line: string) => void;
}

function supervisorOptions(o: LabUpOptions): SupervisorOptions {
  return {
    dir: o.dir,
    project: o.project,
    ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
    ...(o.electionMs ? { electionMs: o.electionMs } : {}),
    instanceBootMs: o.bootMs,
    operationStepMs: 100,
    lbReadyDelayMs: o.lbDelaySeconds * 1000,
    ...(o.leaseTimings ? { leaseTimings: o.leaseTimings } : {}),
    ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}),
  };
}

/** Starts the detached supervisor and waits until it serves. */
async function spawnSupervisor(opts: SupervisorOptions): Promise<SupervisorInfo> {
  const logFd = openSync(join(opts.dir, 'supervisor.log'), 'a');
  const daemon = fileURLToPath(new URL('../lab/daemon.js', import.meta.url));
  const child = spawn(process.execPath, [daemon, JSON.stringify(opts)], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  child.unref();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  return waitFor('the lab supervisor', 15_000, () => {
    if (exited) {
      const tail = readFileSync(join(opts.dir, 'supervisor.log'), 'utf8')
        .trim()
        .split('\n')
        .slice(-5)
        .join('\n');
      throw new Error(`the lab supervisor exited:\n${tail}`);
    }
    const i = readSupervisorInfo(opts.dir);
    return i && i.pid === child.pid ? i : null;
  });
}

/** Until `members` members are listed in each cluster and `healthy` of them answer with a leader. */
async function waitEtcdHealthy(
  ctx: LabContext,
  want: { members: number; healthy: number },
  deadlineMs: number,
): Promise<void> {
  const tls = {
    caFile: ctx.etcd.main.caFile,
    certFile: ctx.etcd.main.certFile,
    keyFile: ctx.etcd.main.keyFile,
  };
  for (const [cluster, endpoints, t] of [
    ['main', ctx.etcd.main.endpoints, tls],
    ['events', ctx.etcd.events.endpoints, null],
  ] as const) {
    const src = new EtcdClusterSource(cluster, { endpoints: [...endpoints], tls: t }, 1500);
    try {
      await waitFor(`etcd ${cluster} to be healthy`, deadlineMs, async () => {
        const obs = await src.observe();
        const healthy = obs.statuses.filter((s) => s.ok && s.leaderId && s.leaderId !== '0');
        return obs.members?.length === want.members && healthy.length >= want.healthy ? true : null;
      });
    } finally {
      src.close();
    }
  }
}

const optionsPath = (dir: string) => join(dir, 'lab-options.json');

/** The lab's --quota-backend-bytes, as `lab up` recorded it; null: kube-up's default. */
export function labQuotaBackendBytes(dir: string): number | null {
  try {
    const o = JSON.parse(readFileSync(optionsPath(dir), 'utf8')) as LabUpOptions;
    return o.quotaBackendBytes ?? null;
  } catch {
    return null;
  }
}

/**
 * The supervisor of a lab died (killed, machine rebooted) but its state is on
 * disk: start a new one over it. The Compute state, addresses and etcd data
 * survive, RUNNING instances boot again and their members rejoin; a stopped
 * (TERMINATED) instance stays stopped, its member listed but down.
 */
export async function labResume(dir: string, log: (l: string) => void = () => {}): Promise<number> {
  const started = Date.now();
  const o = JSON.parse(readFileSync(optionsPath(dir), 'utf8')) as LabUpOptions;
  const ctx = readLabContext(dir);
  const info = await spawnSupervisor(supervisorOptions({ ...o, dir }));
  log(`supervisor ${info.pid} resumed the lab at ${info.computeEndpoint}`);
  const next = {
    ...ctx,
    supervisorPid: info.pid,
    computeEndpoint: info.computeEndpoint,
    controlURL: info.controlURL,
  };
  // The context names the new supervisor at once, whatever etcd does next.
  writeLabContext(dir, next);
  // The instances GCE shows RUNNING boot again (the supervisor's VMs may still be starting).
  const listed = (await (
    await fetch(`${info.computeEndpoint}/compute/v1/projects/${ctx.project}/aggregated/instances`, {
      signal: AbortSignal.timeout(5000),
    })
  ).json()) as { items?: Record<string, { instances?: { status?: string }[] }> };
  const running = Object.values(listed.items ?? {})
    .flatMap((scope) => scope.instances ?? [])
    .filter((i) => i.status === 'RUNNING').length;
  const members = ctx.etcd.main.endpoints.length;
  // Without a quorum of running VMs no member can be healthy: nothing to wait for.
  if (running * 2 > members) await waitEtcdHealthy(next, { members, healthy: running }, 60_000);
  else log(`only ${running} of ${members} replicas run: etcd has no quorum to wait for`);
  return (Date.now() - started) / 1000;
}

export async function labUp(o: LabUpOptions): Promise<{ names: string[]; seconds: number }> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  if (labRunning(o.dir)) {
    throw new UsageError(`a lab is already running in ${o.dir} (kube-ha lab down --dir ${o.dir})`);
  }
  assertLabDir(o.dir, 'up');
  const stale = readSupervisorInfo(o.dir);
  if (stale && isLabSupervisor(stale.pid, o.dir)) process.kill(stale.pid, 'SIGTERM');
  removeLabFiles(o.dir);
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(join(o.dir, LAB_MARKER), 'a kube-ha lab: kube-ha lab down removes what is in here\n');
  const { log: _log, ...persisted } = o;
  writeFileSync(optionsPath(o.dir), JSON.stringify(persisted, null, 2));
  const info = await spawnSupervisor(supervisorOptions(o));
  log(`supervisor ${info.pid} serving the Compute API at ${info.computeEndpoint}`);

  try {
    const { createComputeClients } = await import('../gce/clients.js');
    const { buildTopology } = await import('../lab/topology.js');
    const clients = await createComputeClients({ endpoint: info.computeEndpoint, timeoutMs: 30_000 });
    let names: string[];
    try {
      const { caFile, caKey } = await ensureCA(join(o.dir, 'pki'));
      names = await buildTopology(clients, {
        etcdCA: { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKey, 'utf8') },
        project: o.project,
        zones: o.zones,
        replicas: o.replicas,
        masterName: o.masterName,
        ...(o.quotaBackendBytes
          ? { kubeEnv: { ETCD_QUOTA_BACKEND_BYTES: String(o.quotaBackendBytes) } }
          : {}),
        ...(o.certDays ? { certDays: o.certDays } : {}),
      });
    } finally {
      await clients.close();
    }
    log(`replicas ${names.join(', ')} created; waiting for etcd`);

    const vms = (await (await fetch(`${info.controlURL}/vms`)).json()) as { vms: { internalIP: string }[] };
    const client = await issueCert(join(o.dir, 'pki'), 'kube-ha-client', { clientOnly: true });
    const ctx: LabContext = {
      project: o.project,
      region: regionOfZone(o.zones[0]!),
      masterName: o.masterName,
      computeEndpoint: info.computeEndpoint,
      controlURL: info.controlURL,
      supervisorPid: info.pid,
      etcd: {
        main: {
          endpoints: vms.vms.map((v) => `https://${v.internalIP}:2379`),
          caFile: client.caFile,
          certFile: client.certFile,
          keyFile: client.keyFile,
        },
        events: { endpoints: vms.vms.map((v) => `http://${v.internalIP}:4002`) },
      },
      createdAt: new Date().toISOString(),
    };
    await waitEtcdHealthy(ctx, { members: o.replicas, healthy: o.replicas }, 60_000);
    writeLabContext(o.dir, ctx);
    return { names, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await labDown(o.dir).catch(() => {});
    throw err;
  }
}

export async function labDown(dir: string): Promise<boolean> {
  assertLabDir(dir, 'down');
  const info = readSupervisorInfo(dir);
  if (!info) {
    removeLabFiles(dir);
    return false;
  }
  let pids: number[] = [];
  if (isLabSupervisor(info.pid, dir)) {
    try {
      const res = await fetch(`${info.controlURL}/vms`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { vms: { pids: Record<string, number> }[] };
      pids = body.vms.flatMap((v) => Object.values(v.pids));
      await fetch(`${info.controlURL}/shutdown`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    } catch {
      process.kill(info.pid, 'SIGTERM');
    }
    try {
      await waitFor('the lab supervisor to stop', 10_000, () => (processAlive(info.pid) ? null : true));
    } catch {
      process.kill(info.pid, 'SIGKILL');
    }
  }
  // Anything the supervisor could not stop (it was killed) goes now.
  for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  await reapOrphans(join(dir, 'pids.json'), dir);
  removeLabFiles(dir);
  return true;
}

export async function labCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'slow-disk') return (await import('./lab-vm.js')).labSlowDiskCommand(rest);
  if (sub === 'fill') return (await import('./lab-fill.js')).labFillCommand(rest);
  if (sub === 'apiserver') return (await import('./lab-vm.js')).labApiserverCommand(rest);
  if (sub === 'ssh') return (await import('./lab-vm.js')).labSshCommand(rest);
  const { values, positionals } = parseFlags(rest, {
    dir: { type: 'string' },
    zones: { type: 'string' },
    replicas: { type: 'string' },
    'lb-delay': { type: 'string' },
    project: { type: 'string' },
    'master-name': { type: 'string' },
    heartbeat: { type: 'string' },
    election: { type: 'string' },
    'quota-backend-bytes': { type: 'string' },
    'cert-days': { type: 'string' },
    'boot-ms': { type: 'string' },
    'leader-elect-lease-duration': { type: 'string' },
    'leader-elect-renew-deadline': { type: 'string' },
    'leader-elect-retry-period': { type: 'string' },
    ttl: { type: 'string' },
    wipe: { type: 'boolean' },
  });
  if (values.wipe && sub !== 'crash')
    throw new UsageError(`--wipe is a flag of lab crash, not of lab ${sub}`);
  const dir = resolve(values.dir ?? defaultLabDir());
  switch (sub) {
    case 'up': {
      if (positionals.length)
        throw new UsageError(`lab up takes no arguments (got ${positionals.join(' ')})`);
      if (!labRunning(dir) && existsSync(contextPath(dir)) && existsSync(optionsPath(dir))) {
        const shaping = (
          ['zones', 'replicas', 'project', 'master-name', 'quota-backend-bytes', 'cert-days'] as const
        ).filter((f) => values[f] !== undefined);
        if (shaping.length) {
          throw new UsageError(
            `${dir} holds a stopped lab: 'kube-ha lab up' resumes it as it was (--${shaping[0]} not applied); 'kube-ha lab down' first for a new one`,
          );
        }
        const seconds = await labResume(dir, (l) => process.stderr.write(`lab: ${l}\n`));
        process.stdout.write(`lab resumed in ${seconds.toFixed(1)} s from the state in ${dir}\n`);
        return EXIT.ok;
      }
      const zones = (values.zones ?? DEFAULT_ZONES.join(','))
        .split(',')
        .map((z) => z.trim())
        .filter(Boolean);
      if (!zones.length) throw new UsageError('--zones: no zones given');
      const regions = new Set(zones.map(regionOfZone));
      if (regions.size > 1)
        throw new UsageError(`--zones: all zones must be in one region (got ${[...regions].join(', ')})`);
      const replicas = number(values.replicas, '--replicas', 1, 9) ?? zones.length;
      // etcd's defaults (100 ms / 1000 ms) unless asked: kube-up sets neither flag.
      const heartbeatMs = number(values.heartbeat, '--heartbeat', 10, 5000);
      const electionMs = number(values.election, '--election', 50, 50000);
      if ((electionMs ?? 1000) < (heartbeatMs ?? 100) * 5)
        throw new UsageError('--election must be at least 5 times --heartbeat (etcd rule)');
      const ttl = number(values.ttl, '--ttl', 1, 86400);
      // etcd refuses writes past it (NOSPACE); a small one rehearses that (`lab fill`).
      const quotaBackendBytes = number(
        values['quota-backend-bytes'],
        '--quota-backend-bytes',
        65536,
        8 * 1024 ** 3,
      );
      if (quotaBackendBytes !== undefined && !Number.isInteger(quotaBackendBytes))
        throw new UsageError('--quota-backend-bytes must be a whole number of bytes');
      // kube-up signs for 5 years; a few days rehearses the expiry warnings (30 days, 7 days).
      const certDays = number(values['cert-days'], '--cert-days', 1, 3650);
      if (certDays !== undefined && !Number.isInteger(certDays))
        throw new UsageError('--cert-days must be a whole number of days');
      const leaseTimings = leaseTimingFlags(values);
      const { names, seconds } = await labUp({
        dir,
        zones,
        replicas,
        lbDelaySeconds: number(values['lb-delay'], '--lb-delay', 0, 3600) ?? 10,
        project: values.project ?? 'kube-ha-lab',
        masterName: values['master-name'] ?? 'kubernetes-master',
        heartbeatMs,
        electionMs,
        ...(quotaBackendBytes ? { quotaBackendBytes } : {}),
        ...(certDays ? { certDays } : {}),
        bootMs: number(values['boot-ms'], '--boot-ms', 0, 60000) ?? 1000,
        ...(leaseTimings ? { leaseTimings } : {}),
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
    case 'status':
      return (await import('./lab-vm.js')).labStatus(dir);
    case 'crash':
    case 'restart':
    case 'freeze':
    case 'thaw':
    case 'stop': {
      const name = positionals[0];
      if (!name || positionals.length > 1)
        throw new UsageError(
          sub === 'crash'
            ? `usage: kube-ha lab crash NAME [--wipe] [--dir DIR] (--wipe: also delete the replica's etcd data, both clusters' data dirs on its disk, for good)`
            : `usage: kube-ha lab ${sub} NAME [--dir DIR]`,
        );
      const { vmAction } = await import('./lab-vm.js');
      return vmAction(dir, name, sub, sub === 'crash' && values.wipe ? { wipe: true } : undefined);
    }
    default:
      throw new UsageError(
        `usage: kube-ha lab up|down|status|crash [--wipe]|restart|freeze|thaw|stop|ssh|apiserver|slow-disk|fill (got '${sub ?? ''}')`,
      );
  }
}
