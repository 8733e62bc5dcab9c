// A lab VM: what a kube-up control-plane replica's boot does, for real, from
// its instance metadata (kube-up-reference.md §2.3, §3):
// - configure.sh download-kube-env / download-kube-master-certs: kube-env and
//   kube-master-certs as `readonly KEY='value'` lines in /home/kubernetes;
// - configure-helper.sh create-master-etcd-auth / create-master-etcd-apiserver-auth:
//   the etcd certificates decoded (`base64 --decode | gunzip`) into
//   /etc/srv/kubernetes (on the master PD);
// - prepare-etcd-manifest: etcd main and events with kube-up's flags (names
//   `etcd-<instance>`, peer URLs by instance name with peer TLS on both,
//   client URLs advertised as 127.0.0.1, main clients mTLS, events plain http,
//   metrics on 2382);
// - kube-apiserver and the leader-elected components beside them.
// The VM's files live under its boot disk (vms/<name>) and its master PD
// (disks/<name>-pd) in the lab directory. Differences from kube-up are listed
// in the README.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initialEtcdCluster, type KubeEnv, parseKubeEnv } from '../domain/kube-env.js';
import {
  apiserverEtcdMaterialOf,
  KUBE_ENV_KEY,
  MASTER_CERTS_KEY,
  peerMaterialOf,
} from '../domain/master-certs.js';
import { memberNameOf } from '../domain/names.js';
import type { EtcdClusterName } from '../domain/types.js';
import {
  type ControlPlaneInfo,
  type ControlPlaneOptions,
  type LocalEtcd,
  VmControlPlane,
} from './components/control-plane.js';
import {
  type EtcdMemberSpec,
  type EtcdTls,
  peerURL,
  type RunningEtcd,
  startEtcd,
  stopEtcd,
} from './etcd-process.js';

/** kube-up's ports (start-etcd-servers): main client 2379 / peer 2380, events 4002 / 2381. */
export const ETCD_PORTS: Record<EtcdClusterName, { client: number; peer: number }> = {
  main: { client: 2379, peer: 2380 },
  events: { client: 4002, peer: 2381 },
};

/** etcd main's metrics port (prepare-etcd-manifest, only with client mTLS). */
export const ETCD_METRICS_PORT = 2382;

/** kube-up's default ETCD_QUOTA_BACKEND_BYTES (prepare-etcd-manifest). */
const DEFAULT_QUOTA_BACKEND_BYTES = 4294967296;

export interface VmBoot {
  name: string;
  zone: string;
  internalIP: string;
  metadata: Record<string, string>;
  /** The master PD's directory (etcd data and /etc/srv/kubernetes survive restarts there). */
  diskDir: string;
  /** The boot disk's directory (/home/kubernetes). */
  rootDir: string;
  pkiDir: string;
  logDir: string;
  /** Lab DNS: instance name -> internal IP, as names resolve inside a GCE network. */
  resolve(name: string): string | null;
  /** The lab's hosts file, bound over /etc/hosts for the VM's etcd processes. */
  hostsFile: string | null;
  /** etcd's timing flags; unset, etcd's defaults, as kube-up leaves them. */
  heartbeatMs?: number | undefined;
  electionMs?: number | undefined;
  /** kube-apiserver and the leader-elected components; absent: the VM runs etcd only. */
  controlPlane?: ControlPlaneOptions;
}

/** A cluster's data dir on the master PD (prepare-etcd-manifest: /var/etcd/data, /var/etcd/data-events). */
export function etcdDataDir(diskDir: string, cluster: EtcdClusterName): string {
  return join(diskDir, 'var', 'etcd', cluster === 'main' ? 'data' : 'data-events');
}

/** Metadata key of the lab's boot-time faults (see start()). */
export const LAB_FAULT_KEY = 'kube-ha-lab-fault';

export type VmState = 'running' | 'crashed' | 'frozen' | 'stopped';

/** The files create-master-etcd-auth and create-master-etcd-apiserver-auth write. */
interface EtcdFiles {
  peer: EtcdTls | null;
  /** The member's client-side server pair and CA (main only). */
  server: EtcdTls | null;
  /** kube-apiserver's client pair (etcd-apiserver-client). */
  client: EtcdTls | null;
}

/** A kube-env document as configure.sh leaves it on disk: `readonly KEY='value'` lines. */
export function shellEnvFile(env: KubeEnv): string {
  return Object.entries(env)
    .map(([k, v]) => `readonly ${k}='${v.replaceAll("'", "'\\''")}'\n`)
    .join('');
}

/**
 * Whether the member's peers on other hosts would accept this peer
 * certificate: etcd's peer listener checks the client certificate's SANs
 * against the connecting address (client/pkg/transport listener_tls.go
 * checkCertSAN): IP SANs must equal it (127.0.0.1 only matches the same host),
 * else one of its DNS names must resolve to it. In the lab every connection
 * comes from 127.0.0.1, so the lab applies the check itself. Returns the
 * refusal, or null.
 */
export function peerCertRefusal(
  certPem: string,
  vmIP: string,
  resolve: (name: string) => string | null,
): string | null {
  const cert = new X509Certificate(certPem);
  const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
  const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
  if (ips.includes(vmIP) || dns.some((d) => resolve(d) === vmIP)) return null;
  return `tls: "${vmIP}" does not match any of DNSNames ${JSON.stringify(dns)} (IP SANs ${JSON.stringify(ips)})`;
}

export class LabVm {
  private members = new Map<EtcdClusterName, RunningEtcd>();
  state: VmState = 'stopped';
  private readonly cp: VmControlPlane | null;
  private files: EtcdFiles = { peer: null, server: null, client: null };

  constructor(readonly boot: VmBoot) {
    this.cp = boot.controlPlane
      ? new VmControlPlane(
          {
            name: boot.name,
            internalIP: boot.internalIP,
            pkiDir: boot.pkiDir,
            logDir: boot.logDir,
            etcd: () => this.localEtcd(),
          },
          boot.controlPlane,
        )
      : null;
  }

  private get kubeEnv(): KubeEnv {
    return parseKubeEnv(this.boot.metadata[KUBE_ENV_KEY] ?? '');
  }

  private bootLog(line: string): void {
    mkdirSync(this.boot.logDir, { recursive: true });
    appendFileSync(
      join(this.boot.logDir, `${this.boot.name}-boot.log`),
      `${new Date().toISOString()} ${line}\n`,
    );
  }

  /** /etc/srv/kubernetes on the master PD (mount-master-pd's symlink). */
  private get srvDir(): string {
    return join(this.boot.diskDir, 'srv', 'kubernetes');
  }

  /** configure.sh: kube-env and kube-master-certs in /home/kubernetes. */
  private writeEnvFiles(): void {
    const home = join(this.boot.rootDir, 'home', 'kubernetes');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    for (const key of [KUBE_ENV_KEY, MASTER_CERTS_KEY]) {
      const text = this.boot.metadata[key];
      if (text !== undefined)
        writeFileSync(join(home, key), shellEnvFile(parseKubeEnv(text)), { mode: 0o600 });
    }
  }

  /**
   * create-master-etcd-auth and create-master-etcd-apiserver-auth: each set
   * is written when all its values are present; a value that does not decode
   * is a boot failure (the real script writes an empty file and etcd cannot
   * load it).
   */
  private writeEtcdCerts(): EtcdFiles {
    const env = this.kubeEnv;
    const out: EtcdFiles = { peer: null, server: null, client: null };
    const write = (path: string, pem: string, mode = 0o644) => {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(path, pem, { mode });
      return path;
    };
    if (env.ETCD_CA_CERT && env.ETCD_PEER_KEY && env.ETCD_PEER_CERT) {
      const p = peerMaterialOf(env);
      if (!p.caPem || !p.certPem || !p.keyPem)
        throw new Error(
          'kube-env ETCD_CA_CERT / ETCD_PEER_CERT / ETCD_PEER_KEY do not decode (certificates are read with `base64 --decode | gunzip`, keys with `base64 --decode`)',
        );
      out.peer = {
        caFile: write(join(this.srvDir, 'etcd-ca.crt'), p.caPem),
        certFile: write(join(this.srvDir, 'etcd-peer.crt'), p.certPem),
        keyFile: write(join(this.srvDir, 'etcd-peer.key'), p.keyPem, 0o600),
      };
    }
    const certs = parseKubeEnv(this.boot.metadata[MASTER_CERTS_KEY] ?? '');
    const need = [
      'ETCD_APISERVER_CA_CERT',
      'ETCD_APISERVER_SERVER_KEY',
      'ETCD_APISERVER_SERVER_CERT',
      'ETCD_APISERVER_CLIENT_KEY',
      'ETCD_APISERVER_CLIENT_CERT',
    ];
    if (need.every((k) => certs[k])) {
      const a = apiserverEtcdMaterialOf(certs);
      if (!a.caPem || !a.server || !a.client)
        throw new Error(`${MASTER_CERTS_KEY} ETCD_APISERVER_* values do not decode`);
      const pki = join(this.srvDir, 'pki');
      const caFile = write(join(pki, 'etcd-apiserver-ca.crt'), a.caPem);
      if (a.caKeyPem) write(join(pki, 'etcd-apiserver-ca.key'), a.caKeyPem, 0o600);
      out.server = {
        caFile,
        certFile: write(join(pki, 'etcd-apiserver-server.crt'), a.server.certPem),
        keyFile: write(join(pki, 'etcd-apiserver-server.key'), a.server.keyPem, 0o600),
      };
      out.client = {
        caFile,
        certFile: write(join(pki, 'etcd-apiserver-client.crt'), a.client.certPem),
        keyFile: write(join(pki, 'etcd-apiserver-client.key'), a.client.keyPem, 0o600),
      };
    } else if (need.some((k) => certs[k])) {
      // configure-kubeapiserver.sh configure-etcd-params exits 1 on a partial set.
      this.bootLog('kube-master-certs has only some ETCD_APISERVER_* values: kube-apiserver would exit 1');
    }
    return out;
  }

  /** ETCD_HOSTNAME, else `hostname -s`: the instance name. */
  private get hostname(): string {
    return this.kubeEnv.ETCD_HOSTNAME || this.boot.name;
  }

  /** The etcd flags prepare-etcd-manifest renders for this VM (exported for tests). */
  memberSpec(cluster: EtcdClusterName): EtcdMemberSpec {
    const b = this.boot;
    const env = this.kubeEnv;
    const host = this.hostname;
    const initial = initialEtcdCluster(env);
    if (initial.members.length === 0) initial.members = [host];
    const ports = ETCD_PORTS[cluster];
    const peerScheme = this.files.peer ? 'https' : 'http';
    const clientTls = cluster === 'main' ? this.files.server : null;
    return {
      name: memberNameOf(host),
      dataDir: etcdDataDir(b.diskDir, cluster),
      // --listen-*-urls: the VM's address (kube-up: the resolved hostname for peers,
      // ETCD_LISTEN_CLIENT_IP for clients; the lab cannot share 127.0.0.1 between VMs).
      ip: b.internalIP,
      peerHost: host,
      advertiseClientHost: '127.0.0.1',
      clientPort: ports.client,
      peerPort: ports.peer,
      initialCluster: initial.members
        .map((h) => `${memberNameOf(h)}=${peerScheme}://${h}:${ports.peer}`)
        .join(','),
      initialClusterState: initial.state,
      peerTls: this.files.peer,
      clientTls,
      quotaBackendBytes: Number(env.ETCD_QUOTA_BACKEND_BYTES) || DEFAULT_QUOTA_BACKEND_BYTES,
      ...(cluster === 'main' && clientTls ? { metricsPort: ETCD_METRICS_PORT } : {}),
      ...(b.heartbeatMs ? { heartbeatMs: b.heartbeatMs } : {}),
      ...(b.electionMs ? { electionMs: b.electionMs } : {}),
      extraArgs: [
        `--experimental-watch-progress-notify-interval=${env.ETCD_PROGRESS_NOTIFY_INTERVAL || '5s'}`,
      ],
      ...(b.hostsFile ? { hostsFile: b.hostsFile } : {}),
      logFile: join(b.logDir, `${b.name}-etcd-${cluster}.log`),
    };
  }

  /** How this VM's kube-apiserver reaches etcd main: its own member, with its client pair. */
  localEtcd(): LocalEtcd {
    const tls = this.files.client;
    return {
      endpoint: `${tls ? 'https' : 'http'}://${this.boot.internalIP}:${ETCD_PORTS.main.client}`,
      tls,
      serverName: tls ? `etcd-${this.hostname}` : null,
    };
  }

  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'frozen') return;
    mkdirSync(this.boot.logDir, { recursive: true });
    this.state = 'running';
    try {
      if (!this.boot.metadata[KUBE_ENV_KEY])
        throw new Error('no kube-env metadata: configure.sh would wait for it forever');
      this.writeEnvFiles();
      this.files = this.writeEtcdCerts();
      const refusal = this.peerRefusal();
      for (const cluster of ['main', 'events'] as const) {
        const spec = this.memberSpec(cluster);
        if (refusal) {
          // The member would start and never be let in: its peers refuse every connection.
          appendFileSync(spec.logFile!, `lab: peers reject connections from ${this.boot.name}: ${refusal}\n`);
          continue;
        }
        this.members.set(cluster, startEtcd(spec));
      }
      if (refusal) this.bootLog(`etcd peers would refuse this VM's peer certificate: ${refusal}`);
    } catch (err) {
      // The VM runs on without etcd, as one whose configure-helper.sh failed would.
      this.bootLog(`etcd not started: ${(err as Error).message}`);
      return;
    }
    try {
      await this.cp?.start();
    } catch (err) {
      // The VM runs on without its components, as one whose kubelet failed would.
      this.bootLog(`control-plane components failed to start: ${(err as Error).message}`);
    }
    // Lab fault (kube-ha ops tests): a VM whose metadata says so boots with etcd
    // hung, so that a new member never catches up. Copied by clones like any metadata.
    if (this.boot.metadata[LAB_FAULT_KEY] === 'etcd-stalled') this.freeze();
  }

  /** The peer SAN check, where there are peers on other hosts to make it. */
  private peerRefusal(): string | null {
    const peer = this.files.peer;
    if (!peer) return null;
    const initial = initialEtcdCluster(this.kubeEnv);
    const alone = initial.state === 'new' && initial.members.every((m) => m === this.hostname);
    if (alone) return null;
    const pem = peerMaterialOf(this.kubeEnv).certPem;
    return pem ? peerCertRefusal(pem, this.boot.internalIP, (n) => this.boot.resolve(n)) : null;
  }

  /** The host dies: processes are killed at once, nothing is flushed. */
  async crash(): Promise<void> {
    await Promise.all([this.cp?.crash(), ...[...this.members.values()].map((m) => stopEtcd(m, 'SIGKILL'))]);
    this.members.clear();
    this.state = 'crashed';
  }

  /**
   * The member's data is lost for good (a wiped or replaced PD): both
   * clusters' data dirs emptied, as etcd would find them on a new disk. Only
   * after crash(): etcd must not be running. Returns the emptied dirs.
   */
  wipeEtcdData(): string[] {
    if (this.members.size > 0) throw new Error(`${this.boot.name}: etcd is running; crash the VM first`);
    const dirs = (['main', 'events'] as const).map((c) => etcdDataDir(this.boot.diskDir, c));
    for (const dir of dirs) {
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        continue; // never started: nothing to lose
      }
      for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
    }
    this.bootLog(`etcd data wiped: ${dirs.join(', ')}`);
    return dirs;
  }

  /**
   * The on-VM steps of a restore from a snapshot, as an operator runs them on
   * a kube-up master (README "Quorum lost"): the static pod's manifest moved
   * out of /etc/kubernetes/manifests (the kubelet stops etcd), the data dir
   * set aside on the master PD (never deleted), `etcdctl snapshot restore` as
   * a one-member cluster under the member's own name and peer URL, and the
   * manifest moved back (the kubelet starts etcd on the restored data, where
   * --initial-cluster no longer matters). Returns where the old data went.
   */
  async restoreEtcd(cluster: EtcdClusterName, snapshotFile: string): Promise<{ setAside: string | null }> {
    if (this.state !== 'running')
      throw new Error(`${this.boot.name} is ${this.state}: etcd cannot be restored`);
    if (!existsSync(snapshotFile)) throw new Error(`no snapshot file ${snapshotFile}`);
    const running = this.members.get(cluster);
    if (running) {
      await stopEtcd(running);
      this.members.delete(cluster);
    }
    const spec = this.memberSpec(cluster);
    const dir = spec.dataDir;
    let setAside: string | null = null;
    if (existsSync(dir)) {
      setAside = `${dir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '')}`;
      renameSync(dir, setAside);
    }
    const url = peerURL(spec);
    try {
      await promisify(execFile)(
        process.env.KUBE_HA_ETCDCTL_BIN ?? 'etcdctl',
        [
          'snapshot',
          'restore',
          snapshotFile,
          `--name=${spec.name}`,
          `--initial-cluster=${spec.name}=${url}`,
          `--initial-advertise-peer-urls=${url}`,
          `--data-dir=${dir}`,
        ],
        { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 120_000 },
      );
    } catch (err) {
      // The manifest stays out, as an operator's failed restore leaves it: etcd is not started on nothing.
      this.bootLog(`etcd ${cluster} restore from ${snapshotFile} failed: ${(err as Error).message}`);
      throw new Error(`etcdctl snapshot restore failed: ${(err as Error).message.split('\n')[0]}`);
    }
    this.bootLog(
      `etcd ${cluster} restored from ${snapshotFile} as a one-member cluster (old data: ${setAside})`,
    );
    this.members.set(cluster, startEtcd(spec));
    return { setAside };
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
