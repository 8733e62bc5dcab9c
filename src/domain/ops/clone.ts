// The new replica's instance resource: a copy of a healthy replica's
// configuration for another zone, as kube-up's replicate path builds it, with
// kube-env telling the new etcd members to join the existing clusters. Pure:
// the executor fetches the source instance and its boot disk, then calls this.
import { type KubeEnv, parseKubeEnv, renderKubeEnv } from '../kube-env.js';
import { KUBE_ENV_KEY, MASTER_CERTS_KEY, type ReplicaCertNeed, replicaCertNeed } from '../master-certs.js';
import { lastSegment } from '../names.js';

/**
 * Metadata a clone must not carry (kube-up's replicate copies a fixed set):
 * `kubeconfig` is uploaded to the first master only (check-cluster), and
 * `kube-master-internal-ip` marks the one master holding the private
 * cluster's internal IP (attach-internal-master-ip).
 */
export const NOT_CLONED_METADATA: readonly string[] = ['kubeconfig', 'kube-master-internal-ip'];

/** The fields of an instance resource (REST JSON, from instances.get) that a clone copies. */
export interface SourceInstance {
  name: string;
  zone: string;
  machineType?: string | null;
  description?: string | null;
  tags?: { items?: string[] | null } | null;
  labels?: Record<string, string> | null;
  canIpForward?: boolean | null;
  disks?: SourceDisk[] | null;
  networkInterfaces?: SourceNic[] | null;
  metadata?: { items?: { key?: string | null; value?: string | null }[] | null } | null;
  serviceAccounts?: { email?: string | null; scopes?: string[] | null }[] | null;
  scheduling?: {
    onHostMaintenance?: string | null;
    automaticRestart?: boolean | null;
    preemptible?: boolean | null;
  } | null;
}

export interface SourceDisk {
  boot?: boolean | null;
  deviceName?: string | null;
  source?: string | null;
  mode?: string | null;
  autoDelete?: boolean | null;
  interface?: string | null;
}

export interface SourceNic {
  network?: string | null;
  subnetwork?: string | null;
  /** GCE returns the allocated CIDR; a clone asks for a range of the same size from the same secondary range. */
  aliasIpRanges?: { ipCidrRange?: string | null; subnetworkRangeName?: string | null }[] | null;
  accessConfigs?: { name?: string | null; type?: string | null; networkTier?: string | null }[] | null;
}

/** The source's boot disk, from disks.get: what the new boot disk is created from. */
export interface BootDiskSpec {
  sourceImage: string;
  sizeGb: string | null;
  /** Disk type name or URL (pd-standard, pd-ssd...). */
  type: string | null;
}

export interface CloneOptions {
  project: string;
  zone: string;
  name: string;
  /** INITIAL_ETCD_CLUSTER of the new replica: the replicas it joins, then itself. */
  initialCluster: string[];
  bootDisk: BootDiskSpec;
  /** The data disk made for it (`<name>-pd`), in its zone. */
  dataDisk: string;
  /** A reserved internal IP, when peers address members by IP. */
  networkIP: string | null;
}

export type InstanceInsertResource = Record<string, unknown> & { name: string };

export class CloneError extends Error {
  override name = 'CloneError';
}

/** kube-env for a replica joining existing clusters. */
export function joiningKubeEnv(text: string, initialCluster: string[]): string {
  const env: KubeEnv = parseKubeEnv(text);
  env.INITIAL_ETCD_CLUSTER = initialCluster.join(',');
  env.INITIAL_ETCD_CLUSTER_STATE = 'existing';
  return renderKubeEnv(env);
}

const zonal = (o: CloneOptions, kind: string, name: string) =>
  `projects/${o.project}/zones/${o.zone}/${kind}/${name}`;

export function cloneInstanceResource(src: SourceInstance, o: CloneOptions): InstanceInsertResource {
  const items = (src.metadata?.items ?? []).filter((i): i is { key: string; value?: string | null } =>
    Boolean(i.key),
  );
  const kubeEnv = items.find((i) => i.key === 'kube-env');
  if (!kubeEnv)
    throw new CloneError(`${src.name} has no kube-env metadata: it does not look like a kube-up replica`);
  if (!src.machineType) throw new CloneError(`${src.name} has no machine type`);
  const disks = src.disks ?? [];
  const boot = disks.find((d) => d.boot);
  if (!boot) throw new CloneError(`${src.name} has no boot disk`);
  const data = disks.find((d) => !d.boot && d.deviceName === 'master-pd');
  if (!data) throw new CloneError(`${src.name} has no master-pd data disk`);

  const nics = (src.networkInterfaces ?? []).map((n, i) => ({
    ...(n.network ? { network: n.network } : {}),
    ...(n.subnetwork ? { subnetwork: n.subnetwork } : {}),
    // make-gcloud-network-argument's `aliases=pods-default:/24`: the size, not the source's CIDR.
    ...(n.aliasIpRanges?.length
      ? {
          aliasIpRanges: n.aliasIpRanges.map((a) => ({
            ...(a.subnetworkRangeName ? { subnetworkRangeName: a.subnetworkRangeName } : {}),
            ipCidrRange: `/${(a.ipCidrRange ?? '/32').split('/')[1] ?? '32'}`,
          })),
        }
      : {}),
    // The reserved IP, or none: GCE picks an ephemeral internal IP.
    ...(i === 0 && o.networkIP ? { networkIP: o.networkIP } : {}),
    // Same access config kinds, ephemeral external IPs: the static IP belongs to the load balancer.
    accessConfigs: (n.accessConfigs ?? []).map((a) => ({
      name: a.name ?? 'External NAT',
      type: a.type ?? 'ONE_TO_ONE_NAT',
      ...(a.networkTier ? { networkTier: a.networkTier } : {}),
    })),
  }));
  if (nics.length === 0) throw new CloneError(`${src.name} has no network interface`);

  const diskType = o.bootDisk.type ? lastSegment(o.bootDisk.type) : null;
  return {
    name: o.name,
    ...(src.description ? { description: src.description } : {}),
    machineType: zonal(o, 'machineTypes', lastSegment(src.machineType)),
    tags: { items: [...(src.tags?.items ?? [])] },
    ...(src.labels ? { labels: { ...src.labels } } : {}),
    ...(src.canIpForward ? { canIpForward: true } : {}),
    disks: [
      {
        boot: true,
        autoDelete: boot.autoDelete ?? true,
        type: 'PERSISTENT',
        ...(boot.deviceName ? { deviceName: boot.deviceName === src.name ? o.name : boot.deviceName } : {}),
        initializeParams: {
          sourceImage: o.bootDisk.sourceImage,
          ...(o.bootDisk.sizeGb ? { diskSizeGb: o.bootDisk.sizeGb } : {}),
          ...(diskType ? { diskType: zonal(o, 'diskTypes', diskType) } : {}),
        },
      },
      {
        boot: false,
        autoDelete: false,
        type: 'PERSISTENT',
        deviceName: 'master-pd',
        mode: data.mode ?? 'READ_WRITE',
        source: zonal(o, 'disks', o.dataDisk),
      },
    ],
    networkInterfaces: nics,
    metadata: {
      items: items
        .filter((i) => !NOT_CLONED_METADATA.includes(i.key))
        .map((i) => ({
          key: i.key,
          value: i.key === KUBE_ENV_KEY ? joiningKubeEnv(i.value ?? '', o.initialCluster) : (i.value ?? ''),
        })),
    },
    serviceAccounts: (src.serviceAccounts ?? []).map((s) => ({
      email: s.email ?? 'default',
      scopes: [...(s.scopes ?? [])],
    })),
    ...(src.scheduling
      ? {
          scheduling: {
            ...(src.scheduling.onHostMaintenance
              ? { onHostMaintenance: src.scheduling.onHostMaintenance }
              : {}),
            ...(src.scheduling.automaticRestart !== null && src.scheduling.automaticRestart !== undefined
              ? { automaticRestart: src.scheduling.automaticRestart }
              : {}),
            ...(src.scheduling.preemptible ? { preemptible: true } : {}),
          },
        }
      : {}),
  };
}

/** The source's boot image: it exists, or it is gone (a clone of it would fail at instances.insert). */
export type ImageState = { kind: 'exists'; image: string } | { kind: 'gone'; image: string; reason: string };

/** What preflight learns from the clone source's VM (src/ops inspects it through Compute). */
export interface SourceInspection {
  source: string;
  /** Set when the VM could not be inspected: the clone cannot be planned safely. */
  error: string | null;
  certs: ReplicaCertNeed;
  image: ImageState;
}

export function metadataValue(src: SourceInstance, key: string): string | null {
  return src.metadata?.items?.find((i) => i.key === key)?.value ?? null;
}

/** The certificates a clone of `src` needs, from its kube-env and kube-master-certs. */
export function sourceCertNeed(src: SourceInstance): ReplicaCertNeed {
  const env = metadataValue(src, KUBE_ENV_KEY);
  if (env === null)
    return { kind: 'impossible', reason: 'no kube-env metadata: it does not look like a kube-up replica' };
  return replicaCertNeed(env, metadataValue(src, MASTER_CERTS_KEY));
}

/** A boot image that images.get did not find. */
export function goneImage(image: string): ImageState {
  return {
    kind: 'gone',
    image,
    reason:
      `its boot image ${image} no longer exists: a clone cannot be created from it ` +
      '(kube-up resolves MASTER_IMAGE_FAMILY at each run; find a current image with ' +
      '`gcloud compute images describe-from-family cos-121-lts --project cos-cloud`)',
  };
}
