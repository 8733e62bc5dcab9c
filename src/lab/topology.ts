// Builds, through the Compute API, what kube-up's create-master leaves for an
// HA control plane (kube-up-reference.md §1, §2, §4): the static address
// `<master>-ip`, one replica (VM + `<name>-pd` disk) per zone with kube-up's
// metadata keys, etcd certificates in kube-up's places and encodings, and with
// two or more replicas the load balancer kube-up builds for them.
// (Difference: kube-up creates one master and replicates it; `lab up` boots N
// replicas at once as one new cluster, INITIAL_ETCD_CLUSTER listing them all.)
import { renderKubeEnv } from '../domain/kube-env.js';
import {
  apiserverEtcdEntries,
  clientCertRequest,
  KUBE_ENV_KEY,
  MASTER_CERTS_KEY,
  type Pem,
  peerCertRequest,
  peerKubeEnvEntries,
  serverCertRequest,
} from '../domain/master-certs.js';
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
   * The cluster's etcd CA: kube-up's create-etcd-certs and
   * create-etcd-apiserver-certs share one CA for peers and apiserver↔etcd.
   */
  etcdCA: Pem;
  /** More kube-env keys for every replica (e.g. ETCD_QUOTA_BACKEND_BYTES, as kube-up passes it through). */
  kubeEnv?: Record<string, string>;
  /** The replicas' etcd certificates valid this many days (kube-up: 5 years); to rehearse an expiry. */
  certDays?: number;
}

type Op = Parameters<typeof waitForOperation>[1];

/** kube-up's MASTER_IMAGE_FAMILY; replicas resolve it when created (util.sh). */
export const MASTER_IMAGE = 'projects/cos-cloud/global/images/family/cos-121-lts';

/** The instance resource create-master-instance-internal inserts for a replica. */
export function replicaInstanceResource(
  project: string,
  zone: string,
  name: string,
  metadata: Record<string, string>,
  opts: { machineType?: string; natIP?: string | null; masterName: string },
) {
  const z = `projects/${project}/zones/${zone}`;
  return {
    name,
    machineType: `${z}/machineTypes/${opts.machineType ?? 'e2-standard-2'}`,
    tags: { items: [`${opts.masterName}`] },
    disks: [
      {
        boot: true,
        autoDelete: true,
        type: 'PERSISTENT',
        initializeParams: { sourceImage: MASTER_IMAGE, diskSizeGb: '20' },
      },
      {
        boot: false,
        autoDelete: false,
        deviceName: 'master-pd',
        source: `${z}/disks/${name}-pd`,
        mode: 'READ_WRITE',
      },
    ],
    // make-gcloud-network-argument in alias mode (ENABLE_IP_ALIASES defaults to true):
    // the subnetwork and a /24 pods range; the internal IP is ephemeral.
    networkInterfaces: [
      {
        network: `projects/${project}/global/networks/default`,
        subnetwork: `projects/${project}/regions/${regionOfZone(zone)}/subnetworks/default`,
        aliasIpRanges: [{ subnetworkRangeName: 'pods-default', ipCidrRange: '/24' }],
        accessConfigs: [
          { name: 'External NAT', type: 'ONE_TO_ONE_NAT', ...(opts.natIP ? { natIP: opts.natIP } : {}) },
        ],
      },
    ],
    metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) },
    // --scopes storage-ro,compute-rw,monitoring,logging-write; the default service account.
    serviceAccounts: [
      {
        email: 'default',
        scopes: [
          'https://www.googleapis.com/auth/devstorage.read_only',
          'https://www.googleapis.com/auth/compute',
          'https://www.googleapis.com/auth/monitoring',
          'https://www.googleapis.com/auth/logging.write',
        ],
      },
    ],
  };
}

/**
 * kube-env as build-linux-kube-env writes it for a master (the keys that
 * matter to HA). ETCD_LISTEN_CLIENT_IP=0.0.0.0 as config-test.sh sets it, so
 * that the members answer off the VM (the lab binds it to the VM's address).
 */
export function replicaKubeEnv(
  masterName: string,
  zone: string,
  cluster: string[],
  state: 'new' | 'existing',
  extra: Record<string, string> = {},
): string {
  const prefix = masterName.replace(/-master$/, '');
  return renderKubeEnv({
    CLUSTER_NAME: prefix,
    INSTANCE_PREFIX: prefix,
    ZONE: zone,
    REGION: regionOfZone(zone),
    MULTIZONE: 'true',
    ETCD_LISTEN_CLIENT_IP: '0.0.0.0',
    INITIAL_ETCD_CLUSTER: cluster.join(','),
    ...(state === 'existing' ? { INITIAL_ETCD_CLUSTER_STATE: 'existing' } : {}),
    ...extra,
  });
}

/** The other metadata keys create-master-instance-internal sets (§2.1); the files' bodies are stand-ins. */
export function replicaOtherMetadata(masterName: string, zone: string): Record<string, string> {
  return {
    'kubelet-config': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n',
    'user-data': '#cloud-config\n# kube-master-installation, kube-master-configuration (lab stand-in)\n',
    'configure-sh': '#!/bin/bash\n# configure.sh (lab stand-in)\n',
    'cluster-location': zone,
    'cluster-name': masterName.replace(/-master$/, ''),
    'gci-update-strategy': 'update_disabled',
    'kube-master-internal-route': '#!/bin/bash\n# kube-master-internal-route.sh (lab stand-in)\n',
  };
}

/** One replica's etcd certificates, issued as create-master does (§4.1). */
export async function replicaEtcdMetadata(
  ca: Pem,
  name: string,
  days?: number,
): Promise<{ env: Record<string, string>; masterCerts: string }> {
  const [peer, server, client] = await Promise.all([
    issueWithCA(ca, peerCertRequest(name), days),
    issueWithCA(ca, serverCertRequest(name), days),
    issueWithCA(ca, clientCertRequest(), days),
  ]);
  return {
    env: peerKubeEnvEntries(ca, peer),
    masterCerts: renderKubeEnv(apiserverEtcdEntries(ca, server, client)),
  };
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

  const [etcdMetadata] = await Promise.all([
    Promise.all(names.map((name) => replicaEtcdMetadata(o.etcdCA, name, o.certDays))),
    ...names.map(async (name, i) =>
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
  ]);

  // Insert every replica before any boots: a new cluster's members find each other by name.
  const inserts = await Promise.all(
    names.map((name, i) => {
      const zone = zoneOf(i);
      const etcd = etcdMetadata[i]!;
      return c.instances.insert({
        project,
        zone,
        instanceResource: replicaInstanceResource(
          project,
          zone,
          name,
          {
            [KUBE_ENV_KEY]: replicaKubeEnv(masterName, zone, names, 'new', {
              ...(staticIP ? { KUBERNETES_MASTER_NAME: staticIP, MASTER_ADVERTISE_ADDRESS: staticIP } : {}),
              ...etcd.env,
              ...o.kubeEnv,
            }),
            [MASTER_CERTS_KEY]: etcd.masterCerts,
            ...replicaOtherMetadata(masterName, zone),
          },
          { masterName, natIP: o.replicas === 1 ? staticIP : null },
        ),
      });
    }),
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
