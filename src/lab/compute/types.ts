// The REST JSON shapes the lab's Compute server stores and returns (the subset
// of compute.proto's fields it fills in, camelCase, int64 as strings), and the
// options and hooks the lab gives it.

export type IPKind = 'internal' | 'external' | 'static';

export interface ComputeHooks {
  /** A fresh address, unique until released. Throwing fails the request with a 503. */
  allocateIP(kind: IPKind, where: { zone?: string; region?: string }): string;
  releaseIP(ip: string): void;
  /**
   * Boots the VM; the instance becomes RUNNING only once this resolves. A
   * rejection fails the insert operation (an error with an upper-case string
   * `code` such as ZONE_RESOURCE_POOL_EXHAUSTED keeps that code), after which
   * `onInstanceStopping` is called so that a half-started VM is cleaned up.
   */
  onInstanceRunning(instance: InstanceResource): Promise<void>;
  /** Stops the VM before the instance disappears. A rejection is ignored: deletion is forceful, as in GCE. */
  onInstanceStopping(instance: InstanceResource): Promise<void>;
  /**
   * instances.reset: kills every process of the VM at once (no shutdown) and
   * boots it again from its disks. Default: onInstanceStopping then
   * onInstanceRunning. A rejection fails the reset operation.
   */
  onInstanceReset?(instance: InstanceResource): Promise<void>;
  /** Called after every persisted change (errors are ignored). */
  onChange?(): void;
  /**
   * Whether a target pool member passes the pool's health check (getHealth).
   * Without it a RUNNING member is HEALTHY once `lbReadyDelayMs` has passed.
   */
  checkHealth?(target: {
    instance: InstanceResource;
    healthCheck: HttpHealthCheckResource | null;
  }): Promise<boolean>;
}

export interface ComputeTiming {
  /** Time an operation spends PENDING, and the least it spends RUNNING. */
  operationStepMs: number;
  /** PROVISIONING -> STAGING -> (onInstanceRunning) -> RUNNING. */
  instanceBootMs: number;
  /** Least time an instance spends STOPPING when deleted or stopped. */
  instanceStopMs: number;
  /** A target pool member counts as healthy only this long after it was added and its forwarding rule exists. */
  lbReadyDelayMs: number;
  /** How long `operations.wait` blocks at most (GCE: about 2 minutes). */
  operationWaitMaxMs: number;
}

export const DEFAULT_TIMING: ComputeTiming = {
  operationStepMs: 200,
  instanceBootMs: 1000,
  instanceStopMs: 500,
  lbReadyDelayMs: 2000,
  operationWaitMaxMs: 120_000,
};

// ------------------------------------------------------------------ resources

export interface MetadataItem {
  key: string;
  value: string;
}

export interface MetadataResource {
  kind: 'compute#metadata';
  fingerprint: string;
  items?: MetadataItem[];
}

export interface AccessConfigResource {
  kind: 'compute#accessConfig';
  type: string;
  name: string;
  /** Absent while the instance is stopped, for an ephemeral one (GCE releases it at stop). */
  natIP?: string;
  networkTier: string;
}

export interface NetworkInterfaceResource {
  kind: 'compute#networkInterface';
  name: string;
  network: string;
  subnetwork: string;
  networkIP: string;
  fingerprint: string;
  stackType: string;
  accessConfigs?: AccessConfigResource[];
  aliasIpRanges?: { ipCidrRange: string; subnetworkRangeName?: string }[];
}

export type DiskMode = 'READ_WRITE' | 'READ_ONLY';

export interface AttachedDiskResource {
  kind: 'compute#attachedDisk';
  type: 'PERSISTENT';
  mode: DiskMode;
  source: string;
  deviceName: string;
  index: number;
  boot: boolean;
  autoDelete: boolean;
  interface: string;
  diskSizeGb: string;
  /** The boot disk's image licences, as GCE shows them on the attached disk. */
  licenses?: string[];
  architecture?: string;
}

export type InstanceStatus = 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';

export interface InstanceResource {
  kind: 'compute#instance';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  tags: { items?: string[]; fingerprint: string };
  machineType: string;
  status: InstanceStatus;
  zone: string;
  canIpForward: boolean;
  networkInterfaces: NetworkInterfaceResource[];
  disks: AttachedDiskResource[];
  metadata: MetadataResource;
  serviceAccounts?: { email: string; scopes: string[] }[];
  selfLink: string;
  scheduling: {
    onHostMaintenance: string;
    automaticRestart: boolean;
    preemptible: boolean;
    provisioningModel: string;
  };
  cpuPlatform: string;
  labels?: Record<string, string>;
  labelFingerprint: string;
  startRestricted: boolean;
  deletionProtection: boolean;
  fingerprint: string;
  lastStartTimestamp?: string;
  lastStopTimestamp?: string;
}

export type DiskStatus = 'CREATING' | 'READY' | 'DELETING';

export interface DiskResource {
  kind: 'compute#disk';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  sizeGb: string;
  zone: string;
  status: DiskStatus;
  selfLink: string;
  type: string;
  sourceImage?: string;
  sourceImageId?: string;
  licenses?: string[];
  architecture?: string;
  users?: string[];
  labels?: Record<string, string>;
  labelFingerprint: string;
  physicalBlockSizeBytes: string;
  lastAttachTimestamp?: string;
  lastDetachTimestamp?: string;
}

export interface ImageResource {
  kind: 'compute#image';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  sourceType: 'RAW';
  status: 'READY';
  archiveSizeBytes: string;
  diskSizeGb: string;
  licenses: string[];
  family: string;
  selfLink: string;
  labelFingerprint: string;
  guestOsFeatures: { type: string }[];
  storageLocations: string[];
  architecture: string;
  deprecated?: { state?: string; replacement?: string };
}

export type AddressStatus = 'RESERVING' | 'RESERVED' | 'IN_USE';

export interface AddressResource {
  kind: 'compute#address';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  address: string;
  status: AddressStatus;
  region: string;
  selfLink: string;
  users?: string[];
  networkTier: string;
  addressType: 'EXTERNAL' | 'INTERNAL';
  /** INTERNAL addresses: the subnetwork (full URL) the IP is taken from. */
  subnetwork?: string;
  /** INTERNAL addresses: GCE_ENDPOINT unless another purpose is asked for. */
  purpose?: string;
  labels?: Record<string, string>;
  labelFingerprint: string;
}

export interface HttpHealthCheckResource {
  kind: 'compute#httpHealthCheck';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  host?: string;
  requestPath: string;
  port: number;
  checkIntervalSec: number;
  timeoutSec: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  selfLink: string;
}

export interface TargetPoolResource {
  kind: 'compute#targetPool';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  region: string;
  healthChecks?: string[];
  instances?: string[];
  sessionAffinity: string;
  selfLink: string;
}

export interface ForwardingRuleResource {
  kind: 'compute#forwardingRule';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  region: string;
  IPAddress: string;
  IPProtocol: string;
  portRange?: string;
  target: string;
  selfLink: string;
  loadBalancingScheme: string;
  networkTier: string;
  labelFingerprint: string;
  fingerprint: string;
}

export type OperationStatus = 'PENDING' | 'RUNNING' | 'DONE';

export interface OperationErrorEntry {
  code: string;
  message: string;
  location?: string;
}

export interface OperationResource {
  kind: 'compute#operation';
  id: string;
  name: string;
  operationType: string;
  targetLink: string;
  targetId?: string;
  status: OperationStatus;
  user: string;
  progress: number;
  insertTime: string;
  startTime?: string;
  endTime?: string;
  selfLink: string;
  zone?: string;
  region?: string;
  error?: { errors: OperationErrorEntry[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

export interface ZoneResource {
  kind: 'compute#zone';
  id: string;
  creationTimestamp: string;
  name: string;
  description: string;
  status: 'UP';
  region: string;
  selfLink: string;
  availableCpuPlatforms: string[];
  supportsPzs: boolean;
}

export interface RegionResource {
  kind: 'compute#region';
  id: string;
  creationTimestamp: string;
  name: string;
  description: string;
  status: 'UP';
  zones: string[];
  quotas: { metric: string; limit: number; usage: number }[];
  selfLink: string;
  supportsPzs: boolean;
}
