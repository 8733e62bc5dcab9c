// Builds, through the Compute API, the topology kube-up leaves for an HA
// control plane: the static address, one replica (VM + `<name>-pd` disk) per
// zone, and with two or more replicas a health-checked target pool and a
// forwarding rule holding the static IP.
import { renderKubeEnv } from '../domain/kube-env.js';
import { MASTER_CERTS_KEY, masterCertsFor } from '../domain/master-certs.js';
import { newReplicaName, regionOfZone } from '../domain/names.js';
import type { ComputeClients } from '../gce/clients.js';
import { waitForOperation } from '../gce/operations.js';
import { issueWithCA } from '../pki/certs.js';

export interface TopologyOptions {
  project: string;
  zones: string[];
  replicas: number;
  masterName: string;
  machineType?: string;
  deadlineMs?: number;
  /**
   * The cluster's etcd CA. Each replica then gets an internal IP reserved
   * first and a `kube-master-certs` with the CA and its own etcd peer
   * certificate (naming it and its IP), as kube-up sets them.
   */
  etcdCA?: { certPem: string; keyPem: string };
}

type Op = Parameters<typeof waitForOperation>[1];

/** The instance resource kube-up would insert for a replica (also used by the add flow). */
export function replicaInstanceResource(
  project: string,
  zone: string,
  name: string,
  metadata: Record<string, string>,
  opts: { machineType?: string; natIP?: string | null; masterName: string; networkIP?: string | null },
) {
  const z = `projects/${project}/zones/${zone}`;
  return {
    name,
    machineType: `${z}/machineTypes/${opts.machineType ?? 'e2-standard-2'}`,
    tags: { items: [`${opts.masterName}`] },
    labels: { 'kube-ha-role': 'control-plane' },
    disks: [
      {
        boot: true,
        autoDelete: true,
        type: 'PERSISTENT',
        initializeParams: {
          sourceImage: 'projects/cos-cloud/global/images/family/cos-stable',
          diskSizeGb: '20',
        },
      },
      {
        boot: false,
        autoDelete: false,
        deviceName: 'master-pd',
        source: `${z}/disks/${name}-pd`,
        mode: 'READ_WRITE',
      },
    ],
    networkInterfaces: [
      {
        network: `projects/${project}/global/networks/default`,
        ...(opts.networkIP ? { networkIP: opts.networkIP } : {}),
        accessConfigs: [
          { name: 'External NAT', type: 'ONE_TO_ONE_NAT', ...(opts.natIP ? { natIP: opts.natIP } : {}) },
        ],
      },
    ],
    metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) },
    serviceAccounts: [
      {
        email: 'default',
        scopes: [
          'https://www.googleapis.com/auth/compute',
          'https://www.googleapis.com/auth/devstorage.read_only',
        ],
      },
    ],
  };
}

export function replicaKubeEnv(masterName: string, cluster: string[], state: 'new' | 'existing'): string {
  return renderKubeEnv({
    INSTANCE_PREFIX: masterName.replace(/-master$/, ''),
    MASTER_NAME: masterName,
    MULTIZONE: 'true',
    ENABLE_ETCD_QUORUM_READ: 'true',
    ETCD_LISTEN_CLIENT_IP: '0.0.0.0',
    INITIAL_ETCD_CLUSTER: cluster.join(','),
    INITIAL_ETCD_CLUSTER_STATE: state,
  });
}

function opOf(res: unknown): Op {
  const first = (res as [{ latestResponse?: unknown }])[0];
  return (first?.latestResponse ?? first) as Op;
}

export async function buildTopology(c: ComputeClients, o: TopologyOptions): Promise<string[]> {
  const { project, masterName } = o;
  const deadlineMs = o.deadlineMs ?? 120_000;
  const region = regionOfZone(o.zones[0] ?? '');
  const done = (res: unknown) => waitForOperation(c, opOf(res), { deadlineMs });

  await done(await c.addresses.insert({ project, region, addressResource: { name: `${masterName}-ip` } }));
  const [address] = await c.addresses.get({ project, region, address: `${masterName}-ip` });
  const staticIP = address.address ?? null;

  const names: string[] = [];
  for (let i = 0; i < o.replicas; i++) names.push(i === 0 ? masterName : newReplicaName(masterName, names));
  const zoneOf = (i: number) => o.zones[i % o.zones.length]!;

  await Promise.all(
    names.map(async (name, i) =>
      done(
        await c.disks.insert({
          project,
          zone: zoneOf(i),
          diskResource: {
            name: `${name}-pd`,
            sizeGb: '20',
            type: `projects/${project}/zones/${zoneOf(i)}/diskTypes/pd-ssd`,
          },
        }),
      ),
    ),
  );

  // Reserved internal IPs (peers address members by IP) and per-replica peer certificates.
  const ips = new Map<string, string>();
  const certs = new Map<string, string>();
  if (o.etcdCA) {
    const ca = o.etcdCA;
    await Promise.all(
      names.map(async (name) => {
        const address = `${name}-internal-ip`;
        await done(
          await c.addresses.insert({
            project,
            region,
            addressResource: { name: address, addressType: 'INTERNAL' },
          }),
        );
        const [got] = await c.addresses.get({ project, region, address });
        if (!got.address) throw new Error(`internal address ${address} has no IP`);
        ips.set(name, got.address);
        const peer = await issueWithCA(ca, `etcd-${name}`, {
          ips: [got.address, '127.0.0.1'],
          dns: [name, 'localhost'],
        });
        certs.set(name, masterCertsFor(ca, peer));
      }),
    );
  }

  const kubeEnv = replicaKubeEnv(masterName, names, 'new');
  // Insert every replica before any boots: a new cluster's members find each other by name.
  const inserts = await Promise.all(
    names.map((name, i) =>
      c.instances.insert({
        project,
        zone: zoneOf(i),
        instanceResource: replicaInstanceResource(
          project,
          zoneOf(i),
          name,
          {
            'kube-env': kubeEnv,
            'cluster-name': masterName.replace(/-master$/, ''),
            ...(certs.has(name) ? { [MASTER_CERTS_KEY]: certs.get(name)! } : {}),
          },
          { masterName, natIP: o.replicas === 1 ? staticIP : null, networkIP: ips.get(name) ?? null },
        ),
      }),
    ),
  );
  await Promise.all(inserts.map(done));

  if (o.replicas >= 2) {
    // kube-up's create-loadbalancer: a target pool with no health check (traffic
    // goes to every RUNNING member) and a forwarding rule holding the static IP.
    await done(
      await c.targetPools.insert({
        project,
        region,
        targetPoolResource: {
          name: masterName,
          instances: names.map((n, i) => `projects/${project}/zones/${zoneOf(i)}/instances/${n}`),
        },
      }),
    );
    await done(
      await c.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: {
          name: masterName,
          IPAddress: staticIP,
          IPProtocol: 'TCP',
          portRange: '443',
          target: `projects/${project}/regions/${region}/targetPools/${masterName}`,
        },
      }),
    );
  }
  return names;
}
