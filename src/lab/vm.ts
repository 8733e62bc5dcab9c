// A lab VM: what a control-plane replica's startup does, for real. It reads
// kube-env from the instance metadata, as configure-helper.sh does, and runs the
// main etcd member (TLS for clients and peers, 2379/2380) and the events member
// (plain http, 4002/2381), bound to the VM's own loopback address.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialEtcdCluster, parseKubeEnv } from '../domain/kube-env.js';
import { MASTER_CERTS_KEY, peerCertOf } from '../domain/master-certs.js';
import { memberNameOf } from '../domain/names.js';
import type { EtcdClusterName } from '../domain/types.js';
import { issueCert } from '../pki/certs.js';
import {
  type ControlPlaneInfo,
  type ControlPlaneOptions,
  VmControlPlane,
} from './components/control-plane.js';
import { type EtcdMemberSpec, type RunningEtcd, startEtcd, stopEtcd } from './etcd-process.js';

export const ETCD_PORTS: Record<EtcdClusterName, { client: number; peer: number; tls: boolean }> = {
  main: { client: 2379, peer: 2380, tls: true },
  events: { client: 4002, peer: 2381, tls: false },
};

export interface VmBoot {
  name: string;
  zone: string;
  internalIP: string;
  metadata: Record<string, string>;
  /** Where the VM's persistent disk lives (etcd data survives restarts there). */
  diskDir: string;
  pkiDir: string;
  logDir: string;
  /** Lab DNS: replica name -> internal IP, as names resolve inside a GCE network. */
  resolve(name: string): string | null;
  heartbeatMs: number;
  electionMs: number;
  /** kube-apiserver and the leader-elected components; absent: the VM runs etcd only. */
  controlPlane?: ControlPlaneOptions;
}

/** Metadata key of the lab's boot-time faults (see start()). */
export const LAB_FAULT_KEY = 'kube-ha-lab-fault';

export type VmState = 'running' | 'crashed' | 'frozen' | 'stopped';

export class LabVm {
  private members = new Map<EtcdClusterName, RunningEtcd>();
  state: VmState = 'stopped';
  private readonly cp: VmControlPlane | null;

  constructor(readonly boot: VmBoot) {
    this.cp = boot.controlPlane
      ? new VmControlPlane(
          { name: boot.name, internalIP: boot.internalIP, pkiDir: boot.pkiDir, logDir: boot.logDir },
          boot.controlPlane,
        )
      : null;
  }

  /**
   * The etcd peer certificate kube-up gives this replica in its
   * kube-master-certs metadata, as files on its disk; null when the metadata
   * carries none (the lab then issues one for it). Whatever names that
   * certificate holds is what the other members check, as etcd does.
   */
  private peerTlsFromMetadata(): { certFile: string; keyFile: string; caFile: string } | null {
    const peer = peerCertOf(this.boot.metadata[MASTER_CERTS_KEY]);
    if (!peer) return null;
    const dir = join(this.boot.diskDir, 'etcd-peer-pki');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = {
      certFile: join(dir, 'peer.crt'),
      keyFile: join(dir, 'peer.key'),
      caFile: join(dir, 'ca.crt'),
    };
    writeFileSync(files.certFile, peer.certPem);
    writeFileSync(files.keyFile, peer.keyPem, { mode: 0o600 });
    writeFileSync(files.caFile, peer.caPem);
    return files;
  }

  /** The etcd flags a replica derives from its metadata (exported for tests). */
  async memberSpec(cluster: EtcdClusterName): Promise<EtcdMemberSpec> {
    const b = this.boot;
    const env = parseKubeEnv(b.metadata['kube-env'] ?? '');
    const initial = initialEtcdCluster(env);
    if (initial.members.length === 0) initial.members = [b.name];
    const ports = ETCD_PORTS[cluster];
    const scheme = ports.tls ? 'https' : 'http';
    const initialCluster = initial.members
      .map((host) => {
        const ip = host === b.name ? b.internalIP : b.resolve(host);
        if (!ip) throw new Error(`${b.name}: cannot resolve ${host} from INITIAL_ETCD_CLUSTER`);
        return `${memberNameOf(host)}=${scheme}://${ip}:${ports.peer}`;
      })
      .join(',');
    const tls = ports.tls
      ? await issueCert(b.pkiDir, `etcd-${b.name}`, {
          ips: [b.internalIP, '127.0.0.1'],
          dns: [b.name, 'localhost'],
        })
      : null;
    return {
      name: memberNameOf(b.name),
      dataDir: join(b.diskDir, cluster === 'main' ? 'etcd-main' : 'etcd-events'),
      ...(tls ? { peerTls: this.peerTlsFromMetadata() ?? tls } : {}),
      ip: b.internalIP,
      clientPort: ports.client,
      peerPort: ports.peer,
      initialCluster,
      initialClusterState: initial.state,
      initialClusterToken: cluster === 'main' ? 'etcd-cluster-2' : 'etcd-cluster-3',
      clientTls: tls,
      heartbeatMs: b.heartbeatMs,
      electionMs: b.electionMs,
      logFile: join(b.logDir, `${b.name}-etcd-${cluster}.log`),
    };
  }

  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'frozen') return;
    mkdirSync(this.boot.logDir, { recursive: true });
    const specs = await Promise.all((['main', 'events'] as const).map((c) => this.memberSpec(c)));
    for (const spec of specs) {
      const cluster: EtcdClusterName = spec.clientPort === ETCD_PORTS.main.client ? 'main' : 'events';
      this.members.set(cluster, startEtcd(spec));
    }
    this.state = 'running';
    try {
      await this.cp?.start();
    } catch (err) {
      // The VM runs on without its components, as one whose kubelet failed would.
      console.error(`${this.boot.name}: control-plane components failed to start: ${(err as Error).message}`);
    }
    // Lab fault (kube-ha ops tests): a VM whose metadata says so boots with etcd
    // hung, so that a new member never catches up. Copied by clones like any metadata.
    if (this.boot.metadata[LAB_FAULT_KEY] === 'etcd-stalled') this.freeze();
  }

  /** The host dies: processes are killed at once, nothing is flushed. */
  async crash(): Promise<void> {
    await Promise.all([this.cp?.crash(), ...[...this.members.values()].map((m) => stopEtcd(m, 'SIGKILL'))]);
    this.members.clear();
    this.state = 'crashed';
  }

  /** The host hangs: processes stop answering but keep their sockets. */
  freeze(): void {
    this.cp?.freeze();
    for (const m of this.members.values()) m.child.kill('SIGSTOP');
    if (this.members.size) this.state = 'frozen';
  }

  thaw(): void {
    for (const m of this.members.values()) m.child.kill('SIGCONT');
    this.cp?.thaw();
    if (this.state === 'frozen') this.state = 'running';
  }

  async stop(): Promise<void> {
    this.thaw();
    // The components go first, so that the scheduler and cluster-autoscaler can still release their leases.
    await this.cp?.stop();
    await Promise.all([...this.members.values()].map((m) => stopEtcd(m)));
    this.members.clear();
    this.state = 'stopped';
  }

  /** The in-process components (null when the VM runs etcd only). */
  controlPlane(): ControlPlaneInfo | null {
    return this.cp?.describe() ?? null;
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [c, m] of this.members) out[`etcd-${c}`] = m.pid;
    return out;
  }
}
