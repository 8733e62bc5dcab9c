// `kube-ha lab ssh NAME [-- COMMAND...]`: a shell or a command as if on one of
// the lab's replicas, as an operator who ssh'd to a kube-up master would have it:
// - a GCE metadata server answering as that instance (metadata-server.ts),
//   named by GCE_METADATA_HOST as Google's libraries honour it;
// - with root: fresh network, mount, UTS and PID namespaces (ssh-init.ts)
//   where 127.0.0.1:2379 / 4002 / 2382 are this replica's own etcd main,
//   events and metrics (kube-up's etcd listens on loopback only), the other
//   replicas' etcd ports answer nothing, their apiservers answer on :443
//   (kube-up's <master>-https firewall rule), the Compute endpoint and the
//   metadata server (169.254.169.254) answer, and /etc/srv/kubernetes holds
//   the VM's own files;
// - without root (or unshare): the environment only, and one line saying so;
// - CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE pointing at the lab, no project
//   in the environment (a replica learns it from the metadata server), the
//   operator's gcloud configuration and etcdctl variables left out, and
//   `kube-ha` (this checkout) on PATH.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastSegment } from '../domain/names.js';
import { readLabApiserverPort, readLabContext } from './context.js';
import { type MetadataInstance, type RunningMetadataServer, startMetadataServer } from './metadata-server.js';
import { closeServer, type Endpoint, type Mapping, serveUnixToTcp } from './ssh-bridge.js';
import type { InitConfig } from './ssh-init.js';
import { ETCD_METRICS_PORT, ETCD_PORTS } from './vm.js';

/** GCE's metadata server address, as Google's libraries reach it by default. */
export const METADATA_SERVER_IP = '169.254.169.254';

/** Variables an operator's own shell may carry that would name the target for kube-ha, etcdctl or gcloud. */
export const TARGET_VARIABLES = [
  'CLOUDSDK_CORE_PROJECT',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'CLOUDSDK_COMPUTE_REGION',
  'CLOUDSDK_COMPUTE_ZONE',
  'CLOUDSDK_ACTIVE_CONFIG_NAME',
  'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'ETCDCTL_ENDPOINTS',
  'ETCDCTL_CACERT',
  'ETCDCTL_CERT',
  'ETCDCTL_KEY',
  'KUBE_GCE_ZONE',
  'KUBE_GCE_INSTANCE_PREFIX',
];

/** A lab VM as the control API describes it. */
export interface LabVmInfo {
  name: string;
  zone: string;
  internalIP: string;
  state: string;
}

export interface SshOptions {
  dir: string;
  name: string;
  /** The command and its arguments; empty: the operator's shell. */
  command: string[];
  /** Where the lab's control API is (a running lab's supervisor). */
  controlURL: string;
  /** Use namespaces when possible (default: when root and unshare exist). */
  namespaces?: boolean;
  log?: (line: string) => void;
}

export class SshRefusal extends Error {
  override name = 'SshRefusal';
}

const FETCH_TIMEOUT_MS = 3000;

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

function which(bin: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));
}

/** Whether the session can have its own namespaces here: root, with unshare and ip. */
export function namespacesAvailable(): boolean {
  return process.getuid?.() === 0 && which('unshare') && which('ip');
}

/** The `kube-ha` on the session's PATH: this checkout, with the node running now. */
function writeWrapper(binDir: string): void {
  const launcher = fileURLToPath(new URL('../../bin/kube-ha.js', import.meta.url));
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const file = join(binDir, 'kube-ha');
  writeFileSync(file, `#!/bin/sh\nexec ${q(process.execPath)} --no-memory-reducer ${q(launcher)} "$@"\n`);
  chmodSync(file, 0o755);
}

/** The session's environment: the operator's, less what names a target, plus what a replica has. */
export function sessionEnv(
  base: NodeJS.ProcessEnv,
  o: { name: string; metadataHost: string; computeEndpoint: string; binDir: string; gcloudDir: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of TARGET_VARIABLES) delete env[k];
  return {
    ...env,
    GCE_METADATA_HOST: o.metadataHost,
    GCE_METADATA_IP: o.metadataHost,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${o.computeEndpoint.replace(/\/$/, '')}/compute/v1/`,
    // An empty gcloud configuration: the project comes from the metadata server, as on a replica.
    CLOUDSDK_CONFIG: o.gcloudDir,
    PATH: `${o.binDir}:${base.PATH ?? '/usr/bin:/bin'}`,
    HOSTNAME: o.name,
    KUBE_HA_LAB_SSH: o.name,
  };
}

function hostPort(url: string): Endpoint {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80) };
}

/** The forwarding rules' addresses and ports in the lab's region (the apiserver behind the load balancer). */
async function loadBalancerEndpoints(computeEndpoint: string, project: string, region: string) {
  const rules = await getJson<{ items?: { IPAddress?: string; portRange?: string }[] }>(
    `${computeEndpoint}/compute/v1/projects/${project}/regions/${region}/forwardingRules`,
  );
  return (rules.items ?? []).flatMap((r) => {
    const port = Number(r.portRange?.split('-')[0]);
    return r.IPAddress && port ? [{ host: r.IPAddress, port }] : [];
  });
}

/**
 * What the session reaches, inside -> outside: its own members and
 * apiserver on 127.0.0.1, the metadata server, the Compute endpoint, and
 * every replica's apiserver (and the load balancer's) on the apiserver port.
 */
export function sessionEndpoints(o: {
  vm: LabVmInfo;
  vms: LabVmInfo[];
  metadata: Endpoint;
  compute: Endpoint;
  apiserverPort: number;
  loadBalancers: Endpoint[];
}): { inside: Endpoint; outside: Endpoint }[] {
  const ip = o.vm.internalIP;
  const same = (e: Endpoint) => ({ inside: e, outside: e });
  return [
    {
      inside: { host: '127.0.0.1', port: ETCD_PORTS.main.client },
      outside: { host: ip, port: ETCD_PORTS.main.client },
    },
    {
      inside: { host: '127.0.0.1', port: ETCD_PORTS.events.client },
      outside: { host: ip, port: ETCD_PORTS.events.client },
    },
    {
      inside: { host: '127.0.0.1', port: ETCD_METRICS_PORT },
      outside: { host: ip, port: ETCD_METRICS_PORT },
    },
    // kube-apiserver listens on every address by default (--bind-address 0.0.0.0), loopback too.
    { inside: { host: '127.0.0.1', port: o.apiserverPort }, outside: { host: ip, port: o.apiserverPort } },
    { inside: { host: METADATA_SERVER_IP, port: 80 }, outside: o.metadata },
    same(o.compute),
    ...o.vms.map((v) => same({ host: v.internalIP, port: o.apiserverPort })),
    ...o.loadBalancers.map(same),
  ];
}

/** Runs the session; resolves to the command's exit code. */
export async function labSsh(o: SshOptions): Promise<number> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const ctx = readLabContext(o.dir);
  const { vms } = await getJson<{ vms: LabVmInfo[] }>(`${o.controlURL}/vms`);
  const vm = vms.find((v) => v.name === o.name);
  if (!vm)
    throw new SshRefusal(
      `no lab VM named ${o.name} (the lab's VMs: ${vms.map((v) => v.name).join(', ') || 'none'})`,
    );
  if (vm.state !== 'running')
    throw new SshRefusal(`${o.name} is ${vm.state}: ssh to it would hang (kube-ha lab restart ${o.name})`);
  const zone = lastSegment(vm.zone);
  const instanceURL = `${ctx.computeEndpoint}/compute/v1/projects/${ctx.project}/zones/${zone}/instances/${o.name}`;
  const tmp = mkdtempSync(join(tmpdir(), 'kube-ha-ssh-'));
  const binDir = join(tmp, 'bin');
  const gcloudDir = join(tmp, 'gcloud');
  const sockDir = join(tmp, 'sockets');
  for (const d of [binDir, gcloudDir, sockDir]) mkdirSync(d);
  writeWrapper(binDir);
  const bridges: Server[] = [];
  let metadata: RunningMetadataServer | null = null;
  let child: ChildProcess | null = null;
  let useNs = false;
  // A SIGTERM or SIGHUP to this process ends the session. In namespaces, unshare is
  // SIGKILLed: its --kill-child then kills the session's init, and with it the PID
  // namespace's every process (unshare itself may block SIGTERM while it waits).
  const onSignal = (sig: NodeJS.Signals) => child?.kill(useNs ? 'SIGKILL' : sig);
  const ignore = () => {};
  try {
    metadata = await startMetadataServer(
      { project: ctx.project, instance: () => getJson<MetadataInstance>(instanceURL) },
      { host: hostPort(ctx.computeEndpoint).host },
    );
    useNs = o.namespaces ?? namespacesAvailable();
    const command = o.command.length ? o.command : [process.env.SHELL || '/bin/sh'];
    let env: NodeJS.ProcessEnv;
    if (useNs) {
      const [mdHost, mdPort] = metadata.host.split(':');
      const endpoints = sessionEndpoints({
        vm,
        vms,
        metadata: { host: mdHost!, port: Number(mdPort) },
        compute: hostPort(ctx.computeEndpoint),
        apiserverPort: readLabApiserverPort(o.dir),
        loadBalancers: await loadBalancerEndpoints(ctx.computeEndpoint, ctx.project, ctx.region),
      });
      const mappings: Mapping[] = endpoints.map((e, i) => ({ ...e, socket: join(sockDir, `${i}.sock`) }));
      for (const m of mappings) bridges.push(await serveUnixToTcp(m.socket, m.outside));
      const scratch = join(tmp, 'scratch');
      mkdirSync(scratch);
      const init: InitConfig = {
        hostname: o.name,
        addresses: [`${METADATA_SERVER_IP}/32`],
        mappings: mappings.map((m) => ({ inside: m.inside, socket: m.socket })),
        srv: { from: join(o.dir, 'disks', `${o.name}-pd`, 'srv', 'kubernetes'), scratch },
        hostsFile: join(o.dir, 'hosts'),
        command,
      };
      env = sessionEnv(process.env, {
        name: o.name,
        metadataHost: METADATA_SERVER_IP,
        computeEndpoint: ctx.computeEndpoint,
        binDir,
        gcloudDir,
      });
      const initScript = fileURLToPath(new URL('./ssh-init.js', import.meta.url));
      child = spawn(
        'unshare',
        [
          '--net',
          '--mount',
          '--uts',
          '--pid',
          '--fork',
          '--mount-proc',
          '--kill-child',
          process.execPath,
          initScript,
          JSON.stringify(init),
        ],
        { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env },
      );
    } else {
      log(
        `kube-ha lab ssh: not root or no unshare: only the environment is modelled. 127.0.0.1 is not ${o.name} ` +
          `(its etcd listens on ${vm.internalIP}), /etc/srv/kubernetes is not its files, and the other replicas' etcd client ports are reachable`,
      );
      env = sessionEnv(process.env, {
        name: o.name,
        metadataHost: metadata.host,
        computeEndpoint: ctx.computeEndpoint,
        binDir,
        gcloudDir,
      });
      child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    }
    // The terminal's Ctrl-C and Ctrl-\ are the command's.
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    const running = child;
    return await new Promise<number>((resolve) => {
      running.on('error', (err) => {
        log(`kube-ha lab ssh: ${err.message}`);
        resolve(127);
      });
      running.on('exit', (code, signal) =>
        resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)),
      );
    });
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    await Promise.all(bridges.map(closeServer));
    await metadata?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
