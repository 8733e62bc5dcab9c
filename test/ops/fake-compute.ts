// Compute in memory for the executor's unit tests: instances (with their boot
// disks), disks, addresses, the target pool, the forwarding rule and health
// checks, changed as GCE would change them. Any change can be made to fail at
// its n-th call, before it applies (the request was refused) or after (it
// applied, but its answer was lost).
import type { InstanceInsertResource, SourceInstance } from '../../src/domain/ops/clone.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { CancelledError } from '../../src/gce/retry.js';
import type {
  ComputeDisk,
  ComputeInstance,
  MutationResult,
  RequestIdBook,
  RunnerCompute,
} from '../../src/ops/compute-ops.js';

export type ComputeChange =
  | 'insertHealthCheck'
  | 'deleteHealthCheck'
  | 'insertTargetPool'
  | 'deleteTargetPool'
  | 'addToPool'
  | 'removeFromPool'
  | 'insertForwardingRule'
  | 'deleteForwardingRule'
  | 'insertInternalAddress'
  | 'deleteAddress'
  | 'insertDisk'
  | 'deleteDisk'
  | 'insertInstance'
  | 'deleteInstance'
  | 'resetInstance'
  | 'startInstance'
  | 'deleteAccessConfig'
  | 'addAccessConfig';

/** Fail the `call`-th call (1-based; default the first) of `method`, before or after it applies. */
export interface Fault<M extends string> {
  method: M;
  call?: number;
  when: 'before' | 'after';
}

export interface FakeInstance {
  name: string;
  zone: string;
  status: string;
  networkIP: string;
  /** The external IP of its access config; null: none. */
  natIP: string | null;
  /** RUNNING but its processes answer nothing (lab freeze): a reset cures it. */
  hung?: boolean;
}

export interface FakeDisk {
  name: string;
  zone: string;
  type: string;
  sizeGb: string;
}

/** Everything the fake holds, as plain sorted data: what a test compares before and after. */
export interface ComputeResources {
  instances: FakeInstance[];
  disks: FakeDisk[];
  addresses: { name: string; address: string }[];
  pools: { name: string; instances: string[]; healthChecks: string[] }[];
  rules: { name: string; ip: string; pool: string }[];
  healthChecks: string[];
}

class Shared {
  instances = new Map<string, FakeInstance>();
  disks = new Map<string, FakeDisk>();
  addresses = new Map<string, { name: string; address: string }>();
  pools = new Map<string, { name: string; instances: Set<string>; healthChecks: string[] }>();
  rules = new Map<string, { name: string; ip: string; pool: string }>();
  healthChecks = new Set<string>();
  faults: Fault<ComputeChange>[] = [];
  counts = new Map<string, number>();
  /** Every change as ComputeOps logs it (`disks.insert zone=… name=…`). */
  calls: string[] = [];
  /** Called before a change applies (after a 'before' fault): a test's invariant checks, a lost lock. */
  onChange: ((method: ComputeChange, label: string, signal: AbortSignal | undefined) => unknown) | null =
    null;
  nextIP = 100;
}

const IMAGE = 'projects/cos-cloud/global/images/cos-stable';
const KUBE_ENV = "KUBERNETES_MASTER: 'true'\n";
const STATIC_IP_NAME = (master: string) => `${master}-ip`;

export class FakeCompute implements RunnerCompute {
  readonly project = 'p';
  readonly region = 'us-central1';
  private readonly s: Shared;
  private readonly signal: AbortSignal | undefined;

  constructor(shared = new Shared(), signal?: AbortSignal) {
    this.s = shared;
    this.signal = signal;
  }

  /**
   * The cluster a fixture status describes: its replicas' VMs, boot and data
   * disks, the load balancer with its static IP, or the static IP on the
   * sole replica.
   */
  static fromStatus(st: ClusterStatus): FakeCompute {
    const f = new FakeCompute();
    const master = st.masterName ?? 'kubernetes-master';
    const staticIP = st.loadBalancer?.ip ?? st.apiserverIP?.address ?? '127.20.3.1';
    f.s.addresses.set(STATIC_IP_NAME(master), { name: STATIC_IP_NAME(master), address: staticIP });
    for (const r of st.replicas) {
      const holdsStatic = st.apiserverIP?.attachedTo === r.name;
      f.s.instances.set(r.name, {
        name: r.name,
        zone: r.zone ?? 'us-central1-a',
        status: 'RUNNING',
        networkIP: r.vm.internalIP ?? '10.0.0.1',
        natIP: holdsStatic ? staticIP : (r.vm.externalIP ?? null),
      });
      for (const d of [r.name, `${r.name}-pd`])
        f.s.disks.set(d, { name: d, zone: r.zone ?? 'us-central1-a', type: 'pd-ssd', sizeGb: '20' });
    }
    if (st.loadBalancer) {
      const lb = st.loadBalancer;
      const pool = lb.targetPool ?? master;
      f.s.pools.set(pool, { name: pool, instances: new Set(lb.instances), healthChecks: [] });
      f.s.rules.set(lb.forwardingRule, { name: lb.forwardingRule, ip: lb.ip, pool });
    }
    return f;
  }

  get calls(): string[] {
    return this.s.calls;
  }

  /** Fails a change at a chosen call; see Fault. */
  fail(fault: Fault<ComputeChange>): this {
    this.s.faults.push(fault);
    return this;
  }

  onChange(fn: Shared['onChange']): this {
    this.s.onChange = fn;
    return this;
  }

  instance(name: string): FakeInstance | null {
    return this.s.instances.get(name) ?? null;
  }

  resources(): ComputeResources {
    const byName = <T extends { name: string }>(xs: Iterable<T>) =>
      [...xs].map((x) => ({ ...x })).sort((a, b) => a.name.localeCompare(b.name));
    return {
      instances: byName(this.s.instances.values()),
      disks: byName(this.s.disks.values()),
      addresses: byName(this.s.addresses.values()),
      pools: byName(
        [...this.s.pools.values()].map((p) => ({
          name: p.name,
          instances: [...p.instances].sort(),
          healthChecks: [...p.healthChecks],
        })),
      ),
      rules: byName(this.s.rules.values()),
      healthChecks: [...this.s.healthChecks].sort(),
    };
  }

  withSignal(signal: AbortSignal | undefined): FakeCompute {
    return signal ? new FakeCompute(this.s, signal) : this;
  }

  /** The model applies each call once whatever its ID: the IDs are the executor's to keep (see the journal tests). */
  withRequestIds(_book: RequestIdBook): FakeCompute {
    return this;
  }

  // ------------------------------------------------------------ reads

  async getInstance(_zone: string, name: string): Promise<ComputeInstance | null> {
    const i = this.s.instances.get(name);
    if (!i) return null;
    // What a clone reads of its source, besides what the runners read.
    const out: ComputeInstance & SourceInstance = {
      name: i.name,
      zone: i.zone,
      status: i.status,
      machineType: `projects/p/zones/${i.zone}/machineTypes/n1-standard-1`,
      metadata: { items: [{ key: 'kube-env', value: KUBE_ENV }] },
      disks: [
        { boot: true, source: `projects/p/zones/${i.zone}/disks/${i.name}`, autoDelete: true },
        { boot: false, deviceName: 'master-pd', source: `projects/p/zones/${i.zone}/disks/${i.name}-pd` },
      ],
      networkInterfaces: [
        {
          name: 'nic0',
          network: 'global/networks/default',
          subnetwork: 'regions/us-central1/subnetworks/default',
          networkIP: i.networkIP,
          accessConfigs: i.natIP ? [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: i.natIP }] : [],
        },
      ],
    };
    return out;
  }

  async getDisk(_zone: string, name: string): Promise<ComputeDisk | null> {
    const d = this.s.disks.get(name);
    return d ? { type: d.type, sizeGb: d.sizeGb, sourceImage: IMAGE } : null;
  }

  async getAddress(name: string) {
    const a = this.s.addresses.get(name);
    return a ? { address: a.address } : null;
  }

  async getTargetPool(name: string) {
    const p = this.s.pools.get(name);
    if (!p) return null;
    return {
      instances: [...p.instances].map((i) => `projects/p/zones/z/instances/${i}`),
      healthChecks: p.healthChecks.map((h) => `projects/p/global/httpHealthChecks/${h}`),
    };
  }

  async getForwardingRule(name: string) {
    const r = this.s.rules.get(name);
    return r ? { IPAddress: r.ip } : null;
  }

  async getHealthCheck(name: string) {
    return this.s.healthChecks.has(name) ? { name } : null;
  }

  // ------------------------------------------------------------ changes

  private async change(
    method: ComputeChange,
    label: string,
    apply: () => MutationResult,
  ): Promise<MutationResult> {
    if (this.signal?.aborted) throw new CancelledError('cancelled');
    this.s.calls.push(label);
    const n = (this.s.counts.get(method) ?? 0) + 1;
    this.s.counts.set(method, n);
    const fault = this.s.faults.find((f) => f.method === method && (f.call ?? 1) === n);
    if (fault?.when === 'before') throw new Error(`${label}: HTTP 503 (injected, before the change)`);
    await this.s.onChange?.(method, label, this.signal);
    const r = apply();
    if (fault?.when === 'after') throw new Error(`${label}: no response (injected, after the change)`);
    return r;
  }

  private notFound(what: string): never {
    throw Object.assign(new Error(`HTTP 404: ${what} was not found`), { code: 404 });
  }

  insertHealthCheck(a: { name: string; port: number; path: string }) {
    return this.change('insertHealthCheck', `httpHealthChecks.insert name=${a.name}`, () => {
      if (this.s.healthChecks.has(a.name)) return 'exists';
      this.s.healthChecks.add(a.name);
      return 'done';
    });
  }

  deleteHealthCheck(name: string) {
    return this.change('deleteHealthCheck', `httpHealthChecks.delete name=${name}`, () =>
      this.s.healthChecks.delete(name) ? 'done' : 'absent',
    );
  }

  insertTargetPool(a: {
    region: string;
    name: string;
    healthCheck: string | null;
    instances: { name: string; zone: string }[];
  }) {
    return this.change('insertTargetPool', `targetPools.insert region=${a.region} name=${a.name}`, () => {
      if (this.s.pools.has(a.name)) return 'exists';
      this.s.pools.set(a.name, {
        name: a.name,
        instances: new Set(a.instances.map((i) => i.name)),
        healthChecks: a.healthCheck ? [a.healthCheck] : [],
      });
      return 'done';
    });
  }

  deleteTargetPool(region: string, name: string) {
    return this.change('deleteTargetPool', `targetPools.delete region=${region} name=${name}`, () =>
      this.s.pools.delete(name) ? 'done' : 'absent',
    );
  }

  addToPool(_region: string, pool: string, instance: { name: string; zone: string }) {
    return this.change('addToPool', `targetPools.addInstance pool=${pool} instance=${instance.name}`, () => {
      const p = this.s.pools.get(pool) ?? this.notFound(`target pool ${pool}`);
      p.instances.add(instance.name);
      return 'done';
    });
  }

  removeFromPool(_region: string, pool: string, instance: { name: string; zone: string }) {
    return this.change(
      'removeFromPool',
      `targetPools.removeInstance pool=${pool} instance=${instance.name}`,
      () => {
        const p = this.s.pools.get(pool) ?? this.notFound(`target pool ${pool}`);
        p.instances.delete(instance.name);
        return 'done';
      },
    );
  }

  insertForwardingRule(a: { region: string; name: string; ip: string; pool: string }) {
    return this.change(
      'insertForwardingRule',
      `forwardingRules.insert region=${a.region} name=${a.name}`,
      () => {
        if (this.s.rules.has(a.name)) return 'exists';
        if (!this.s.pools.has(a.pool)) this.notFound(`target pool ${a.pool}`);
        this.s.rules.set(a.name, { name: a.name, ip: a.ip, pool: a.pool });
        return 'done';
      },
    );
  }

  deleteForwardingRule(region: string, name: string) {
    return this.change('deleteForwardingRule', `forwardingRules.delete region=${region} name=${name}`, () =>
      this.s.rules.delete(name) ? 'done' : 'absent',
    );
  }

  insertInternalAddress(a: { region: string; name: string; subnetwork: string | null }) {
    return this.change('insertInternalAddress', `addresses.insert region=${a.region} name=${a.name}`, () => {
      if (this.s.addresses.has(a.name)) return 'exists';
      this.s.addresses.set(a.name, { name: a.name, address: `10.0.0.${this.s.nextIP++}` });
      return 'done';
    });
  }

  deleteAddress(region: string, name: string) {
    return this.change('deleteAddress', `addresses.delete region=${region} name=${name}`, () =>
      this.s.addresses.delete(name) ? 'done' : 'absent',
    );
  }

  insertDisk(a: { zone: string; name: string; type: string; sizeGb: string }) {
    return this.change('insertDisk', `disks.insert zone=${a.zone} name=${a.name}`, () => {
      if (this.s.disks.has(a.name)) return 'exists';
      this.s.disks.set(a.name, { name: a.name, zone: a.zone, type: a.type, sizeGb: a.sizeGb });
      return 'done';
    });
  }

  deleteDisk(zone: string, name: string) {
    return this.change('deleteDisk', `disks.delete zone=${zone} name=${name}`, () => {
      // GCE refuses to delete a disk an instance still uses.
      if (this.s.instances.has(name.replace(/-pd$/, '')))
        throw new Error(`HTTP 400: disk ${name} is in use by an instance`);
      return this.s.disks.delete(name) ? 'done' : 'absent';
    });
  }

  insertInstance(zone: string, resource: InstanceInsertResource, _about: string) {
    const name = resource.name;
    return this.change('insertInstance', `instances.insert zone=${zone} name=${name}`, () => {
      if (this.s.instances.has(name)) return 'exists';
      // Its data disk must exist: the clone attaches it.
      if (!this.s.disks.has(`${name}-pd`)) this.notFound(`disk ${name}-pd`);
      const nic = (resource.networkInterfaces as { networkIP?: string }[] | undefined)?.[0];
      this.s.instances.set(name, {
        name,
        zone,
        status: 'RUNNING',
        networkIP: nic?.networkIP ?? `10.0.0.${this.s.nextIP++}`,
        natIP: `34.0.0.${this.s.nextIP++}`,
      });
      this.s.disks.set(name, { name, zone, type: 'pd-ssd', sizeGb: '20' });
      return 'done';
    });
  }

  deleteInstance(zone: string, name: string) {
    return this.change('deleteInstance', `instances.delete zone=${zone} name=${name}`, () => {
      if (!this.s.instances.delete(name)) return 'absent';
      // Its boot disk is auto-deleted; its data disk stays.
      this.s.disks.delete(name);
      return 'done';
    });
  }

  /** A hard reboot: the VM stays RUNNING, a hung one answers again. Only a RUNNING VM can be reset. */
  resetInstance(zone: string, name: string) {
    return this.change('resetInstance', `instances.reset zone=${zone} name=${name}`, () => {
      const i = this.s.instances.get(name) ?? this.notFound(`instance ${name}`);
      if (i.status !== 'RUNNING')
        throw Object.assign(new Error(`HTTP 400: instance ${name} is ${i.status}, not RUNNING`), {
          code: 400,
        });
      i.hung = false;
      return 'done';
    });
  }

  /** A TERMINATED or STOPPED VM boots (as GCE, starting a RUNNING one changes nothing). */
  startInstance(zone: string, name: string) {
    return this.change('startInstance', `instances.start zone=${zone} name=${name}`, () => {
      const i = this.s.instances.get(name) ?? this.notFound(`instance ${name}`);
      i.status = 'RUNNING';
      i.hung = false;
      return 'done';
    });
  }

  deleteAccessConfig(zone: string, instance: string, _nic: string, accessConfig: string) {
    return this.change(
      'deleteAccessConfig',
      `instances.deleteAccessConfig zone=${zone} name=${instance} accessConfig="${accessConfig}"`,
      () => {
        const i = this.s.instances.get(instance) ?? this.notFound(`instance ${instance}`);
        if (!i.natIP) return 'absent';
        i.natIP = null;
        return 'done';
      },
    );
  }

  addAccessConfig(
    zone: string,
    instance: string,
    _nic: string,
    config: { name: string; natIP: string | null },
  ) {
    return this.change(
      'addAccessConfig',
      `instances.addAccessConfig zone=${zone} name=${instance} natIP=${config.natIP ?? 'ephemeral'}`,
      () => {
        const i = this.s.instances.get(instance) ?? this.notFound(`instance ${instance}`);
        if (i.natIP) throw new Error(`HTTP 400: ${instance} already has an access config`);
        const ip = config.natIP;
        if (ip && ([...this.s.instances.values()].some((x) => x.natIP === ip) || this.ruleHolds(ip)))
          throw new Error(`HTTP 400: IP ${ip} is in use`);
        i.natIP = ip ?? `34.0.0.${this.s.nextIP++}`;
        return 'done';
      },
    );
  }

  private ruleHolds(ip: string): boolean {
    return [...this.s.rules.values()].some((r) => r.ip === ip);
  }
}
