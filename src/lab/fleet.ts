// The lab's running VMs: boots a LabVm when the Compute server says an instance
// is RUNNING, stops it when the instance is deleted, and lets the operator
// crash, freeze or restart one to rehearse incidents.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastSegment } from '../domain/names.js';
import type { ControlPlaneInfo, ControlPlaneOptions } from './components/control-plane.js';
import { processAlive } from './processes.js';
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
  heartbeatMs: number;
  electionMs: number;
  resolve(name: string): string | null;
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

  constructor(private readonly opts: FleetOptions) {}

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
    const vm = new LabVm({
      name: inst.name,
      zone: lastSegment(inst.zone),
      internalIP,
      metadata,
      diskDir: this.diskDir(inst),
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
    const vm = this.vms.get(name);
    this.vms.delete(name);
    await vm?.stop();
    this.savePids();
  }

  private get(name: string): LabVm {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no running lab VM named ${name}`);
    return vm;
  }

  async crash(name: string): Promise<void> {
    await this.get(name).crash();
    this.savePids();
  }

  async restart(name: string): Promise<void> {
    const vm = this.get(name);
    if (vm.state === 'frozen') vm.thaw();
    if (vm.state === 'running') await vm.crash();
    await vm.start();
    this.savePids();
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
