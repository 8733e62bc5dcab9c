// The lab's running VMs: boots a LabVm when the Compute server says an instance
// is RUNNING (insert, start), stops it when the instance is deleted or stopped,
// kills and boots it again on a reset, and lets the operator crash (and wipe),
// freeze or restart one to rehearse incidents.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialEtcdCluster, parseKubeEnv } from '../domain/kube-env.js';
import { lastSegment } from '../domain/names.js';
import type { EtcdClusterName } from '../domain/types.js';
import type { ControlPlaneInfo, ControlPlaneOptions } from './components/control-plane.js';
import { processAlive } from './processes.js';
import { SlowDisks } from './slow-disk.js';
import { LabVm, type VmState } from './vm.js';

/** The fields of a Compute instance resource (REST JSON) that a VM boots from. */
export interface InstanceResource {
  name: string;
  zone: string;
  status?: string;
  networkInterfaces?: { networkIP?: string }[];
  metadata?: { items?: { key: string; value?: string }[] };
  disks?: { source?: string; deviceName?: string; boot?: boolean }[];
}

export interface FleetOptions {
  dir: string;
  /** Where the etcd pids are recorded, so that a new supervisor can reap a dead one's children. */
  pidsFile?: string;
  /** etcd's timing flags; unset, etcd's defaults (kube-up sets none). */
  heartbeatMs?: number | undefined;
  electionMs?: number | undefined;
  resolve(name: string): string | null;
  /**
   * Run etcd with the lab's hosts file as /etc/hosts (a private mount
   * namespace), so that peer URLs by instance name resolve (default true).
   */
  privateHosts?: boolean;
  /** Run kube-apiserver and the leader-elected components on every VM. */
  controlPlane?: ControlPlaneOptions;
}

export interface VmDescription {
  name: string;
  zone: string;
  internalIP: string;
  state: VmState;
  pids: Record<string, number>;
  controlPlane?: ControlPlaneInfo | null;
}

export class Fleet {
  private readonly vms = new Map<string, LabVm>();
  private readonly slowDisks = new SlowDisks();
  private readonly hosts = new Map<string, string>();

  constructor(private readonly opts: FleetOptions) {}

  /** The lab's /etc/hosts: every VM's name and the names its etcd must reach. */
  hostsFile(): string | null {
    return this.opts.privateHosts === false ? null : join(this.opts.dir, 'hosts');
  }

  /**
   * Rewrites the hosts file in place (same inode: it is bind-mounted into the
   * running etcd processes' namespaces, as GCE's internal DNS answers for every
   * instance in the network).
   */
  private writeHosts(): void {
    const file = this.hostsFile();
    if (!file) return;
    const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost'];
    for (const [name, ip] of [...this.hosts].sort()) lines.push(`${ip} ${name}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
  }

  private learnHosts(inst: InstanceResource, internalIP: string, metadata: Record<string, string>): void {
    this.hosts.set(inst.name, internalIP);
    for (const peer of initialEtcdCluster(parseKubeEnv(metadata['kube-env'] ?? '')).members) {
      const ip = this.opts.resolve(peer);
      if (ip) this.hosts.set(peer, ip);
    }
    for (const vm of this.vms.values()) this.hosts.set(vm.boot.name, vm.boot.internalIP);
    this.writeHosts();
  }

  /** The persistent disk's directory: kube-up's `master-pd` data disk, else the boot disk. */
  diskDir(inst: InstanceResource): string {
    const disks = inst.disks ?? [];
    const data = disks.find((d) => d.deviceName === 'master-pd') ?? disks.find((d) => d.boot) ?? disks[0];
    return join(this.opts.dir, 'disks', data?.source ? lastSegment(data.source) : `${inst.name}-boot`);
  }

  async boot(inst: InstanceResource): Promise<void> {
    const internalIP = inst.networkInterfaces?.[0]?.networkIP;
    if (!internalIP) throw new Error(`${inst.name}: no internal IP`);
    const metadata: Record<string, string> = {};
    for (const item of inst.metadata?.items ?? []) metadata[item.key] = item.value ?? '';
    this.learnHosts(inst, internalIP, metadata);
    const vm = new LabVm({
      name: inst.name,
      zone: lastSegment(inst.zone),
      internalIP,
      metadata,
      diskDir: this.diskDir(inst),
      rootDir: join(this.opts.dir, 'vms', inst.name),
      hostsFile: this.hostsFile(),
      pkiDir: join(this.opts.dir, 'pki'),
      logDir: join(this.opts.dir, 'logs'),
      resolve: this.opts.resolve,
      heartbeatMs: this.opts.heartbeatMs,
      electionMs: this.opts.electionMs,
      ...(this.opts.controlPlane ? { controlPlane: this.opts.controlPlane } : {}),
    });
    await this.vms.get(inst.name)?.stop();
    this.vms.set(inst.name, vm);
    try {
      await vm.start();
    } finally {
      this.savePids();
    }
  }

  private savePids(): void {
    if (this.opts.pidsFile) writeFileSync(this.opts.pidsFile, JSON.stringify(this.allPids()));
  }

  async halt(name: string): Promise<void> {
    this.slowDisks.clear(name);
    const vm = this.vms.get(name);
    this.vms.delete(name);
    await vm?.stop();
    // A stopped or deleted instance's name no longer answers.
    if (this.hosts.delete(name)) this.writeHosts();
    this.savePids();
  }

  private get(name: string): LabVm {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no running lab VM named ${name}`);
    return vm;
  }

  /** etcd's syncs on one member delayed by `delayMs` (0 ends it): see slow-disk.ts. */
  async slowDisk(name: string, cluster: EtcdClusterName, delayMs: number): Promise<void> {
    const vm = this.get(name);
    const pid = vm.pids()[`etcd-${cluster}`];
    if (delayMs > 0 && (vm.state !== 'running' || !pid))
      throw new Error(`${name}'s etcd ${cluster} is not running (VM ${vm.state})`);
    await this.slowDisks.set(name, cluster, pid ?? 0, delayMs);
  }

  /** Members whose disk is slowed now (`vm/cluster`). */
  slowedDisks(): string[] {
    return this.slowDisks.active();
  }

  /**
   * The host dies (processes killed at once). With `wipe`, the member's etcd
   * data goes too (both clusters' data dirs emptied): returns those dirs.
   */
  async crash(name: string, opts: { wipe?: boolean } = {}): Promise<string[]> {
    this.slowDisks.clear(name);
    const vm = this.get(name);
    try {
      await vm.crash();
      return opts.wipe ? vm.wipeEtcdData() : [];
    } finally {
      this.savePids();
    }
  }

  /**
   * instances.reset: every process of the VM killed at once, as a hard reset
   * does (SIGKILL ends a frozen, SIGSTOPped process too), then a boot from
   * its disks as at insert, with the instance's current metadata.
   */
  async reset(inst: InstanceResource): Promise<void> {
    this.slowDisks.clear(inst.name);
    await this.vms.get(inst.name)?.crash();
    await this.boot(inst);
  }

  async restart(name: string): Promise<void> {
    this.slowDisks.clear(name);
    const vm = this.get(name);
    if (vm.state === 'frozen') vm.thaw();
    if (vm.state === 'running') await vm.crash();
    await vm.start();
    this.savePids();
  }

  /** The on-VM restore of one cluster's member from a snapshot (LabVm.restoreEtcd). */
  async restoreEtcd(
    name: string,
    cluster: EtcdClusterName,
    snapshotFile: string,
  ): Promise<{ setAside: string | null }> {
    this.slowDisks.clear(name);
    try {
      return await this.get(name).restoreEtcd(cluster, snapshotFile);
    } finally {
      this.savePids();
    }
  }

  freeze(name: string): void {
    this.get(name).freeze();
  }

  thaw(name: string): void {
    this.get(name).thaw();
  }

  describe(): VmDescription[] {
    return [...this.vms.values()].map((vm) => ({
      name: vm.boot.name,
      zone: vm.boot.zone,
      internalIP: vm.boot.internalIP,
      state: vm.state,
      pids: vm.pids(),
      controlPlane: vm.controlPlane(),
    }));
  }

  allPids(): number[] {
    return [...this.vms.values()].flatMap((vm) => Object.values(vm.pids()));
  }

  /** Ends every VM at once (SIGKILL): etcd's WAL is durable, and a lab shutdown waits on nobody. */
  async stopAll(): Promise<void> {
    this.slowDisks.clearAll();
    await Promise.all([...this.vms.values()].map((vm) => vm.crash()));
    this.vms.clear();
    this.savePids();
  }
}

/**
 * Kills etcd processes a previous supervisor of this lab left behind (it was
 * SIGKILLed and its children lived on, holding the VMs' ports). Only processes
 * whose command line names this lab's directory are touched.
 */
export async function reapOrphans(pidsFile: string, labDir: string): Promise<number[]> {
  if (!existsSync(pidsFile)) return [];
  const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as number[];
  const reaped: number[] = [];
  for (const pid of pids) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(labDir)) continue;
    process.kill(pid, 'SIGKILL');
    reaped.push(pid);
  }
  // Wait until the kernel has released their sockets.
  for (let i = 0; i < 50 && reaped.some(processAlive); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return reaped;
}
