// Compute calls as the operation runners make them, one per resource change
// (the logging, deadlines, retries and request IDs are compute-calls.ts's),
// and what the runners read back: the RunnerCompute the executor's unit tests
// model in memory (test/ops/fake-compute.ts).
import { formatSeconds } from '../domain/format.js';
import { lastSegment } from '../domain/names.js';
import type { DiskSeen } from '../domain/ops/cleanup.js';
import type { InstanceInsertResource } from '../domain/ops/clone.js';
import { ComputeCalls, type RequestIdBook } from './compute-calls.js';

export {
  type CallOptions,
  type ComputeOpsOptions,
  describeError,
  type MutateOptions,
  type RequestIdBook,
} from './compute-calls.js';

/** A NIC as the runners read it: its internal IP, subnetwork and external access config. */
export interface ComputeNic {
  name?: string | null;
  subnetwork?: string | null;
  networkIP?: string | null;
  accessConfigs?: { name?: string | null; natIP?: string | null; type?: string | null }[] | null;
}

/** An instance as the runners read it; the clone reads the rest as a SourceInstance. */
export interface ComputeInstance {
  name?: string | null;
  status?: string | null;
  disks?: { boot?: boolean | null; source?: string | null }[] | null;
  networkInterfaces?: ComputeNic[] | null;
}

export interface ComputeDisk {
  type?: string | null;
  /** A string in REST JSON, a Long from the client library. */
  sizeGb?: string | number | { toString(): string } | null;
  sourceImage?: string | null;
}

/** What a mutation found: done, already there (409 allowed), or already gone (404 allowed). */
export type MutationResult = 'done' | 'exists' | 'absent';

/**
 * The Compute calls the step runners make, one method per resource change:
 * ComputeOps against GCE or the lab (logged, retried, with a requestId), a
 * model in memory in the executor's unit tests (test/ops/fake-compute.ts).
 * Inserts allowed to find their resource answer 'exists', deletes allowed to
 * find it gone answer 'absent'.
 */
export interface RunnerCompute {
  readonly project: string;
  readonly region: string;
  /** The same calls, stopped by `signal` in their pauses and waits. */
  withSignal(signal: AbortSignal | undefined): RunnerCompute;
  /** The same calls, taking their request IDs from `book` (a step's journal record). */
  withRequestIds(book: RequestIdBook): RunnerCompute;
  getInstance(zone: string, name: string): Promise<ComputeInstance | null>;
  getDisk(zone: string, name: string): Promise<ComputeDisk | null>;
  getAddress(name: string): Promise<{ address?: string | null } | null>;
  getTargetPool(
    name: string,
  ): Promise<{ instances?: string[] | null; healthChecks?: string[] | null } | null>;
  getForwardingRule(name: string): Promise<{ IPAddress?: string | null } | null>;
  getHealthCheck(name: string): Promise<object | null>;

  insertHealthCheck(a: { name: string; port: number; path: string }): Promise<MutationResult>;
  deleteHealthCheck(name: string): Promise<MutationResult>;
  insertTargetPool(a: {
    region: string;
    name: string;
    healthCheck: string | null;
    instances: { name: string; zone: string }[];
  }): Promise<MutationResult>;
  deleteTargetPool(region: string, name: string): Promise<MutationResult>;
  addToPool(region: string, pool: string, instance: { name: string; zone: string }): Promise<MutationResult>;
  removeFromPool(
    region: string,
    pool: string,
    instance: { name: string; zone: string },
  ): Promise<MutationResult>;
  insertForwardingRule(a: {
    region: string;
    name: string;
    ip: string;
    pool: string;
  }): Promise<MutationResult>;
  deleteForwardingRule(region: string, name: string): Promise<MutationResult>;
  insertInternalAddress(a: {
    region: string;
    name: string;
    subnetwork: string | null;
  }): Promise<MutationResult>;
  deleteAddress(region: string, name: string): Promise<MutationResult>;
  insertDisk(a: { zone: string; name: string; type: string; sizeGb: string }): Promise<MutationResult>;
  deleteDisk(zone: string, name: string): Promise<MutationResult>;
  /** `about` ends the logged call: what the resource is (the clone's source, its certificates). */
  insertInstance(zone: string, resource: InstanceInsertResource, about: string): Promise<MutationResult>;
  deleteInstance(zone: string, name: string): Promise<MutationResult>;
  /** instances.reset (a hard reboot) and instances.start, each waited for until its operation is DONE. */
  resetInstance(zone: string, name: string): Promise<MutationResult>;
  startInstance(zone: string, name: string): Promise<MutationResult>;
  /** The external access config `accessConfig` of the NIC, gone (404 allowed). */
  deleteAccessConfig(
    zone: string,
    instance: string,
    nic: string,
    accessConfig: string,
  ): Promise<MutationResult>;
  /** A ONE_TO_ONE_NAT access config with `natIP` (null: ephemeral). */
  addAccessConfig(
    zone: string,
    instance: string,
    nic: string,
    config: { name: string; natIP: string | null },
  ): Promise<MutationResult>;
}

export class ComputeOps extends ComputeCalls implements RunnerCompute {
  // ------------------------------------------------------------ resources

  instanceUrl(zone: string, name: string): string {
    return `projects/${this.project}/zones/${zone}/instances/${name}`;
  }

  getInstance(zone: string, name: string) {
    return this.get(`instances.get zone=${zone} name=${name}`, () =>
      this.c.instances.get({ project: this.project, zone, instance: name }),
    );
  }

  getDisk(zone: string, name: string) {
    return this.get(`disks.get zone=${zone} name=${name}`, () =>
      this.c.disks.get({ project: this.project, zone, disk: name }),
    );
  }

  /**
   * Disks whose names match `filter` in every zone of the project (partial
   * success: a zone Compute cannot reach is named in `unreachable`, not
   * taken as empty).
   */
  async listDisks(filter: string): Promise<{ disks: DiskSeen[]; unreachable: string[] }> {
    const label = `disks.aggregatedList filter=${filter}`;
    const started = Date.now();
    const disks: DiskSeen[] = [];
    const unreachable: string[] = [];
    const pages = await this.retrying(
      label,
      async () => {
        disks.length = 0;
        unreachable.length = 0;
        const iter = this.c.disks.aggregatedListAsync(
          { project: this.project, filter, returnPartialSuccess: true },
          { autoPaginate: false },
        );
        let n = 0;
        for await (const [scope, scoped] of iter) {
          n++;
          if (scoped.warning?.code === 'UNREACHABLE') unreachable.push(lastSegment(scope));
          for (const d of scoped.disks ?? []) {
            disks.push({
              name: d.name ?? '',
              zone: lastSegment(d.zone ?? scope),
              users: d.users ?? [],
              sizeGb: d.sizeGb === null || d.sizeGb === undefined ? null : String(d.sizeGb),
              created: d.creationTimestamp ?? null,
            });
          }
        }
        return n;
      },
      {},
    );
    this.o.log(
      `compute ${label} → ${disks.length} disk(s) in ${pages} scope(s) (${formatSeconds(Date.now() - started)})`,
    );
    return { disks, unreachable };
  }

  getAddress(name: string) {
    return this.get(`addresses.get region=${this.region} name=${name}`, () =>
      this.c.addresses.get({ project: this.project, region: this.region, address: name }),
    );
  }

  getTargetPool(name: string) {
    return this.get(`targetPools.get region=${this.region} name=${name}`, () =>
      this.c.targetPools.get({ project: this.project, region: this.region, targetPool: name }),
    );
  }

  getForwardingRule(name: string) {
    return this.get(`forwardingRules.get region=${this.region} name=${name}`, () =>
      this.c.forwardingRules.get({ project: this.project, region: this.region, forwardingRule: name }),
    );
  }

  getHealthCheck(name: string) {
    return this.get(`httpHealthChecks.get name=${name}`, () =>
      this.c.httpHealthChecks.get({ project: this.project, httpHealthCheck: name }),
    );
  }

  // ------------------------------------------------------------ changes

  insertHealthCheck(a: { name: string; port: number; path: string }): Promise<MutationResult> {
    return this.mutate(
      `httpHealthChecks.insert name=${a.name} port=${a.port} path=${a.path}`,
      (requestId) =>
        this.c.httpHealthChecks.insert({
          requestId,
          project: this.project,
          httpHealthCheckResource: {
            name: a.name,
            port: a.port,
            requestPath: a.path,
            checkIntervalSec: 2,
            timeoutSec: 1,
          },
        }),
      { exists: true },
    );
  }

  deleteHealthCheck(name: string): Promise<MutationResult> {
    return this.mutate(
      `httpHealthChecks.delete name=${name}`,
      (requestId) =>
        this.c.httpHealthChecks.delete({ requestId, project: this.project, httpHealthCheck: name }),
      { absent: true },
    );
  }

  insertTargetPool(a: {
    region: string;
    name: string;
    healthCheck: string | null;
    instances: { name: string; zone: string }[];
  }): Promise<MutationResult> {
    return this.mutate(
      `targetPools.insert region=${a.region} name=${a.name}${a.healthCheck ? ` healthCheck=${a.healthCheck}` : ''} instances=${a.instances.map((i) => i.name).join(',')}`,
      (requestId) =>
        this.c.targetPools.insert({
          requestId,
          project: this.project,
          region: a.region,
          targetPoolResource: {
            name: a.name,
            // New plans attach none, as kube-up; only an operation journalled before names one.
            ...(a.healthCheck
              ? { healthChecks: [`projects/${this.project}/global/httpHealthChecks/${a.healthCheck}`] }
              : {}),
            instances: a.instances.map((i) => this.instanceUrl(i.zone, i.name)),
          },
        }),
      { exists: true },
    );
  }

  deleteTargetPool(region: string, name: string): Promise<MutationResult> {
    return this.mutate(
      `targetPools.delete region=${region} name=${name}`,
      (requestId) =>
        this.c.targetPools.delete({ requestId, project: this.project, region, targetPool: name }),
      { absent: true },
    );
  }

  addToPool(region: string, pool: string, instance: { name: string; zone: string }): Promise<MutationResult> {
    return this.mutate(`targetPools.addInstance pool=${pool} instance=${instance.name}`, (requestId) =>
      this.c.targetPools.addInstance({
        requestId,
        project: this.project,
        region,
        targetPool: pool,
        targetPoolsAddInstanceRequestResource: {
          instances: [{ instance: this.instanceUrl(instance.zone, instance.name) }],
        },
      }),
    );
  }

  removeFromPool(
    region: string,
    pool: string,
    instance: { name: string; zone: string },
  ): Promise<MutationResult> {
    return this.mutate(`targetPools.removeInstance pool=${pool} instance=${instance.name}`, (requestId) =>
      this.c.targetPools.removeInstance({
        requestId,
        project: this.project,
        region,
        targetPool: pool,
        targetPoolsRemoveInstanceRequestResource: {
          instances: [{ instance: this.instanceUrl(instance.zone, instance.name) }],
        },
      }),
    );
  }

  insertForwardingRule(a: {
    region: string;
    name: string;
    ip: string;
    pool: string;
  }): Promise<MutationResult> {
    return this.mutate(
      `forwardingRules.insert region=${a.region} name=${a.name} IPAddress=${a.ip} ports=443 target=${a.pool}`,
      (requestId) =>
        this.c.forwardingRules.insert({
          requestId,
          project: this.project,
          region: a.region,
          forwardingRuleResource: {
            name: a.name,
            IPAddress: a.ip,
            IPProtocol: 'TCP',
            portRange: '443',
            target: `projects/${this.project}/regions/${a.region}/targetPools/${a.pool}`,
          },
        }),
      { exists: true },
    );
  }

  deleteForwardingRule(region: string, name: string): Promise<MutationResult> {
    return this.mutate(
      `forwardingRules.delete region=${region} name=${name}`,
      (requestId) =>
        this.c.forwardingRules.delete({ requestId, project: this.project, region, forwardingRule: name }),
      { absent: true },
    );
  }

  insertInternalAddress(a: {
    region: string;
    name: string;
    subnetwork: string | null;
  }): Promise<MutationResult> {
    return this.mutate(
      `addresses.insert region=${a.region} name=${a.name} addressType=INTERNAL`,
      (requestId) =>
        this.c.addresses.insert({
          requestId,
          project: this.project,
          region: a.region,
          addressResource: {
            name: a.name,
            addressType: 'INTERNAL',
            ...(a.subnetwork ? { subnetwork: a.subnetwork } : {}),
          },
        }),
      { exists: true },
    );
  }

  deleteAddress(region: string, name: string): Promise<MutationResult> {
    return this.mutate(
      `addresses.delete region=${region} name=${name}`,
      (requestId) => this.c.addresses.delete({ requestId, project: this.project, region, address: name }),
      { absent: true },
    );
  }

  insertDisk(a: { zone: string; name: string; type: string; sizeGb: string }): Promise<MutationResult> {
    return this.mutate(
      `disks.insert zone=${a.zone} name=${a.name} type=${a.type} sizeGb=${a.sizeGb}`,
      (requestId) =>
        this.c.disks.insert({
          requestId,
          project: this.project,
          zone: a.zone,
          diskResource: {
            name: a.name,
            sizeGb: a.sizeGb,
            type: `projects/${this.project}/zones/${a.zone}/diskTypes/${a.type}`,
          },
        }),
      { exists: true },
    );
  }

  deleteDisk(zone: string, name: string): Promise<MutationResult> {
    return this.mutate(
      `disks.delete zone=${zone} name=${name}`,
      (requestId) => this.c.disks.delete({ requestId, project: this.project, zone, disk: name }),
      { absent: true },
    );
  }

  insertInstance(zone: string, resource: InstanceInsertResource, about: string): Promise<MutationResult> {
    return this.mutate(
      `instances.insert zone=${zone} name=${resource.name}`,
      (requestId) =>
        this.c.instances.insert({ requestId, project: this.project, zone, instanceResource: resource }),
      { exists: true, about },
    );
  }

  deleteInstance(zone: string, name: string): Promise<MutationResult> {
    return this.mutate(
      `instances.delete zone=${zone} name=${name}`,
      (requestId) => this.c.instances.delete({ requestId, project: this.project, zone, instance: name }),
      { absent: true },
    );
  }

  resetInstance(zone: string, name: string): Promise<MutationResult> {
    return this.mutate(`instances.reset zone=${zone} name=${name}`, (requestId) =>
      this.c.instances.reset({ requestId, project: this.project, zone, instance: name }),
    );
  }

  startInstance(zone: string, name: string): Promise<MutationResult> {
    return this.mutate(`instances.start zone=${zone} name=${name}`, (requestId) =>
      this.c.instances.start({ requestId, project: this.project, zone, instance: name }),
    );
  }

  deleteAccessConfig(
    zone: string,
    instance: string,
    nic: string,
    accessConfig: string,
  ): Promise<MutationResult> {
    return this.mutate(
      `instances.deleteAccessConfig zone=${zone} name=${instance} accessConfig="${accessConfig}"`,
      (requestId) =>
        this.c.instances.deleteAccessConfig({
          requestId,
          project: this.project,
          zone,
          instance,
          accessConfig,
          networkInterface: nic,
        }),
      { absent: true },
    );
  }

  addAccessConfig(
    zone: string,
    instance: string,
    nic: string,
    config: { name: string; natIP: string | null },
  ): Promise<MutationResult> {
    const { name, natIP } = config;
    return this.mutate(
      `instances.addAccessConfig zone=${zone} name=${instance} natIP=${natIP ?? 'ephemeral'}`,
      (requestId) =>
        this.c.instances.addAccessConfig({
          requestId,
          project: this.project,
          zone,
          instance,
          networkInterface: nic,
          accessConfigResource: { name, type: 'ONE_TO_ONE_NAT', ...(natIP ? { natIP } : {}) },
        }),
    );
  }

  /** Zones of the region, from regions.get. */
  async zonesInRegion(): Promise<string[] | null> {
    const r = await this.get(`regions.get name=${this.region}`, () =>
      this.c.regions.get({ project: this.project, region: this.region }),
    );
    return r?.zones ? r.zones.map((z) => lastSegment(z)) : null;
  }
}
