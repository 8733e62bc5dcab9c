// Runs one real etcd member as a child process. Used by the lab's VMs and by
// the test harness; knows nothing about GCE.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export interface EtcdTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface EtcdMemberSpec {
  name: string;
  dataDir: string;
  /** IP the member listens on (a loopback address in the lab). */
  ip: string;
  clientPort: number;
  peerPort: number;
  /** Host of the advertised peer URL: kube-up advertises the instance name (default: ip). */
  peerHost?: string;
  /** Host of the advertised client URL: kube-up advertises 127.0.0.1 (default: ip). */
  advertiseClientHost?: string;
  /** name=peerURL,... */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** Unset: etcd's default, as kube-up leaves it. */
  initialClusterToken?: string;
  /** TLS for clients (client certificate auth). null = plain http. */
  clientTls?: EtcdTls | null;
  /** TLS between peers. null = plain http. */
  peerTls?: EtcdTls | null;
  /** Unset: etcd's defaults (100 ms / 1000 ms), as kube-up leaves them. */
  heartbeatMs?: number;
  electionMs?: number;
  quotaBackendBytes?: number;
  /** `--listen-metrics-urls=http://<ip>:<port>` (kube-up: 2382 on main when clients use mTLS). */
  metricsPort?: number;
  logFile?: string;
  extraArgs?: string[];
  /**
   * A hosts file bound over /etc/hosts in a private mount namespace, so that
   * peer URLs by instance name resolve as they do inside a GCE network.
   */
  hostsFile?: string;
}

export function etcdBinary(): string {
  return process.env.KUBE_HA_ETCD_BIN ?? 'etcd';
}

const scheme = (tls: EtcdTls | null | undefined) => (tls ? 'https' : 'http');

/** The advertised peer URL. */
export function peerURL(spec: Pick<EtcdMemberSpec, 'ip' | 'peerPort' | 'peerTls' | 'peerHost'>): string {
  return `${scheme(spec.peerTls)}://${spec.peerHost ?? spec.ip}:${spec.peerPort}`;
}

/** The URL the member listens on for clients (its VM's address). */
export function clientURL(spec: Pick<EtcdMemberSpec, 'ip' | 'clientPort' | 'clientTls'>): string {
  return `${scheme(spec.clientTls)}://${spec.ip}:${spec.clientPort}`;
}

export function etcdArgs(spec: EtcdMemberSpec): string[] {
  const args = [
    `--name=${spec.name}`,
    `--listen-peer-urls=${scheme(spec.peerTls)}://${spec.ip}:${spec.peerPort}`,
    `--initial-advertise-peer-urls=${peerURL(spec)}`,
    `--advertise-client-urls=${scheme(spec.clientTls)}://${spec.advertiseClientHost ?? spec.ip}:${spec.clientPort}`,
    `--listen-client-urls=${clientURL(spec)}`,
    ...(spec.quotaBackendBytes ? [`--quota-backend-bytes=${spec.quotaBackendBytes}`] : []),
    `--data-dir=${spec.dataDir}`,
    `--initial-cluster-state=${spec.initialClusterState}`,
    `--initial-cluster=${spec.initialCluster}`,
    ...(spec.initialClusterToken ? [`--initial-cluster-token=${spec.initialClusterToken}`] : []),
    ...(spec.heartbeatMs ? [`--heartbeat-interval=${spec.heartbeatMs}`] : []),
    ...(spec.electionMs ? [`--election-timeout=${spec.electionMs}`] : []),
    ...(spec.metricsPort ? [`--listen-metrics-urls=http://${spec.ip}:${spec.metricsPort}`] : []),
    '--log-outputs=stderr',
    '--logger=zap',
  ];
  if (spec.peerTls) {
    args.push(
      `--peer-trusted-ca-file=${spec.peerTls.caFile}`,
      `--peer-cert-file=${spec.peerTls.certFile}`,
      `--peer-key-file=${spec.peerTls.keyFile}`,
      '-peer-client-cert-auth',
    );
  }
  if (spec.clientTls) {
    args.push(
      '--client-cert-auth',
      `--trusted-ca-file=${spec.clientTls.caFile}`,
      `--cert-file=${spec.clientTls.certFile}`,
      `--key-file=${spec.clientTls.keyFile}`,
    );
  }
  args.push(...(spec.extraArgs ?? []));
  return args;
}

/**
 * The command that runs etcd: directly, or (with a hosts file) through
 * unshare in a private mount namespace with the file bound over /etc/hosts.
 * unshare and sh exec in turn, so the child's pid is etcd's. A user that is
 * not root gets a user namespace too (it may then mount).
 */
export function etcdCommand(spec: EtcdMemberSpec): { file: string; args: string[] } {
  const etcd = [etcdBinary(), ...etcdArgs(spec)];
  if (!spec.hostsFile) return { file: etcd[0]!, args: etcd.slice(1) };
  const ns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  return {
    file: 'unshare',
    args: [
      ...ns,
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      spec.hostsFile,
      ...etcd,
    ],
  };
}

export interface RunningEtcd {
  spec: EtcdMemberSpec;
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

/** Starts the member; resolves once the process is spawned (not once it is healthy). */
export function startEtcd(spec: EtcdMemberSpec): RunningEtcd {
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  const logFile = spec.logFile ?? join(spec.dataDir, '..', `${spec.name}.log`);
  // etcd writes its log straight to the file: nothing flows through this process.
  const log = openSync(logFile, 'a');
  const cmd = etcdCommand(spec);
  const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', log, log] });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${cmd.file}`);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { spec, child, pid: child.pid, exited };
}

export async function stopEtcd(running: RunningEtcd, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill(signal);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
  await running.exited;
  clearTimeout(timer);
}
