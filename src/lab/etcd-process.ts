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
  /** IP the member binds to (a loopback address in the lab). */
  ip: string;
  clientPort: number;
  peerPort: number;
  /** name=peerURL,... */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  initialClusterToken?: string;
  /** TLS for clients (client certificate auth). null = plain http. */
  clientTls?: EtcdTls | null;
  /** TLS between peers. null = plain http. */
  peerTls?: EtcdTls | null;
  heartbeatMs?: number;
  electionMs?: number;
  logFile?: string;
  extraArgs?: string[];
}

export function etcdBinary(): string {
  return process.env.KUBE_HA_ETCD_BIN ?? 'etcd';
}

export function peerURL(spec: Pick<EtcdMemberSpec, 'ip' | 'peerPort' | 'peerTls'>): string {
  return `${spec.peerTls ? 'https' : 'http'}://${spec.ip}:${spec.peerPort}`;
}

export function clientURL(spec: Pick<EtcdMemberSpec, 'ip' | 'clientPort' | 'clientTls'>): string {
  return `${spec.clientTls ? 'https' : 'http'}://${spec.ip}:${spec.clientPort}`;
}

export function etcdArgs(spec: EtcdMemberSpec): string[] {
  const args = [
    `--name=${spec.name}`,
    `--data-dir=${spec.dataDir}`,
    `--listen-client-urls=${clientURL(spec)}`,
    `--advertise-client-urls=${clientURL(spec)}`,
    `--listen-peer-urls=${peerURL(spec)}`,
    `--initial-advertise-peer-urls=${peerURL(spec)}`,
    `--initial-cluster=${spec.initialCluster}`,
    `--initial-cluster-state=${spec.initialClusterState}`,
    `--initial-cluster-token=${spec.initialClusterToken ?? 'kube-ha-lab'}`,
    `--heartbeat-interval=${spec.heartbeatMs ?? 50}`,
    `--election-timeout=${spec.electionMs ?? 250}`,
    // Small backend and no metrics listener: the lab runs many members on 2 cores.
    '--quota-backend-bytes=268435456',
    '--snapshot-count=10000',
    '--log-outputs=stderr',
    '--logger=zap',
  ];
  if (spec.clientTls) {
    args.push(
      `--cert-file=${spec.clientTls.certFile}`,
      `--key-file=${spec.clientTls.keyFile}`,
      `--trusted-ca-file=${spec.clientTls.caFile}`,
      '--client-cert-auth',
    );
  }
  if (spec.peerTls) {
    args.push(
      `--peer-cert-file=${spec.peerTls.certFile}`,
      `--peer-key-file=${spec.peerTls.keyFile}`,
      `--peer-trusted-ca-file=${spec.peerTls.caFile}`,
      '--peer-client-cert-auth',
    );
  }
  args.push(...(spec.extraArgs ?? []));
  return args;
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
  const child = spawn(etcdBinary(), etcdArgs(spec), { stdio: ['ignore', log, log] });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${etcdBinary()}`);
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
