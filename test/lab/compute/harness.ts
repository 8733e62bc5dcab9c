// A Compute service on 127.0.0.1:0 with recording hooks, and the real client
// library pointed at it through src/gce/clients.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { protos } from '@google-cloud/compute';
import { type ComputeClients, createComputeClients } from '../../../src/gce/clients.js';
import { type GceApiError, toGceApiError } from '../../../src/gce/operations.js';
import {
  type ComputeHooks,
  type ComputeService,
  type ComputeServiceOptions,
  createComputeService,
  type InstanceResource,
  type IPKind,
} from '../../../src/lab/compute/index.js';

export const PROJECT = 'kube-ha-test';
export const FAST = {
  operationStepMs: 20,
  instanceBootMs: 50,
  instanceStopMs: 20,
  lbReadyDelayMs: 60,
  operationWaitMaxMs: 5000,
};

/** Records what the service asked of the lab. */
export class Recorder {
  readonly events: string[] = [];
  readonly allocated = new Map<string, IPKind>();
  readonly released: string[] = [];
  /** Set to make the next boots fail. */
  bootError: Error | null = null;
  /** Set to make boots / stops never finish (an operation stays RUNNING). */
  hangBoot = false;
  hangStop = false;
  private n = 0;

  hooks(): Partial<ComputeHooks> {
    return {
      allocateIP: (kind) => {
        const ip = `10.${kind === 'internal' ? 1 : kind === 'external' ? 2 : 3}.0.${++this.n}`;
        this.allocated.set(ip, kind);
        return ip;
      },
      releaseIP: (ip) => {
        if (!this.allocated.delete(ip)) throw new Error(`released ${ip}, which was not allocated`);
        this.released.push(ip);
      },
      onInstanceRunning: async (inst: InstanceResource) => {
        this.events.push(`running ${inst.name} ${inst.networkInterfaces[0]?.networkIP}`);
        if (this.bootError) throw this.bootError;
        if (this.hangBoot) await new Promise(() => {});
      },
      onInstanceStopping: async (inst: InstanceResource) => {
        this.events.push(`stopping ${inst.name} ${inst.status}`);
        if (this.hangStop) await new Promise(() => {});
      },
      onInstanceReset: async (inst: InstanceResource) => {
        this.events.push(`reset ${inst.name} ${inst.status}`);
        if (this.bootError) throw this.bootError;
      },
    };
  }
}

export interface Lab {
  service: ComputeService;
  clients: ComputeClients;
  rec: Recorder;
  endpoint: string;
  close(): Promise<void>;
}

export async function startService(
  opts: Partial<ComputeServiceOptions> = {},
  rec = new Recorder(),
): Promise<Omit<Lab, 'clients'>> {
  const service = createComputeService({ project: PROJECT, timing: FAST, hooks: rec.hooks(), ...opts });
  const server: Server = createServer((req, res) => void service.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    service,
    rec,
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      await service.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export async function startLab(
  opts: Partial<ComputeServiceOptions> = {},
  rec = new Recorder(),
): Promise<Lab> {
  const base = await startService(opts, rec);
  const clients = await createComputeClients({ endpoint: base.endpoint, timeoutMs: 10_000 });
  return {
    ...base,
    clients,
    async close() {
      await clients.close();
      await base.close();
    },
  };
}

/** The rejection of a call, as a GceApiError; fails if the call succeeds. */
export async function rejection(p: Promise<unknown>): Promise<GceApiError> {
  try {
    await p;
  } catch (err) {
    return toGceApiError(err);
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function zoneUrl(zone: string): string {
  return `projects/${PROJECT}/zones/${zone}`;
}

/** The instance kube-up would insert, minus metadata details. */
export function instanceBody(
  zone: string,
  name: string,
  extra: {
    natIP?: string;
    disks?: protos.google.cloud.compute.v1.IAttachedDisk[];
    items?: { key: string; value: string }[];
  } = {},
): protos.google.cloud.compute.v1.IInstance {
  return {
    name,
    machineType: `${zoneUrl(zone)}/machineTypes/e2-standard-2`,
    disks: extra.disks ?? [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage: 'projects/cos-cloud/global/images/family/cos-stable',
          diskSizeGb: '20',
        },
      },
    ],
    networkInterfaces: [
      {
        network: `projects/${PROJECT}/global/networks/default`,
        accessConfigs: [
          { name: 'External NAT', type: 'ONE_TO_ONE_NAT', ...(extra.natIP ? { natIP: extra.natIP } : {}) },
        ],
      },
    ],
    metadata: { items: extra.items ?? [{ key: 'cluster-name', value: 'kubernetes' }] },
  };
}
