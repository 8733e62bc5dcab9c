// Shapes shared by the sources (what was observed), the pure model (what it
// means) and the UI. Nothing here does I/O.
import type { ComponentLeaderRecords } from './leases/types.js';
import type { LeaseView } from './leases/view.js';
import type { EtcdAlarm, MemberState } from './member-health.js';
import type { PeerObservation } from './peer-view.js';

export type EtcdClusterName = 'main' | 'events';
export const ETCD_CLUSTERS: readonly EtcdClusterName[] = ['main', 'events'];

/** Every instance status of the Compute v1 API (Instance.status). */
export const GCE_VM_STATUSES = [
  'PROVISIONING',
  'STAGING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'SUSPENDING',
  'SUSPENDED',
  'REPAIRING',
  'TERMINATED',
  'PENDING',
  'DEPROVISIONING',
] as const;
export type GceVmStatus = (typeof GCE_VM_STATUSES)[number];

/** A status GCE may add later: kept as it came, shown with a warning, never cast to a known one. */
export type UnrecognisedVmStatus = string & NonNullable<unknown>;

export function isGceVmStatus(s: string): s is GceVmStatus {
  return (GCE_VM_STATUSES as readonly string[]).includes(s);
}

/**
 * GCE instance status values, plus MISSING for a member whose VM is not found
 * and UNKNOWN when GCE is not observed (etcd-only mode).
 */
export type VmStatus = GceVmStatus | 'MISSING' | 'UNKNOWN' | UnrecognisedVmStatus;

// ---------------------------------------------------------------- observations

export interface GceInstance {
  name: string;
  zone: string;
  status: VmStatus;
  internalIP: string | null;
  externalIP: string | null;
  /** Metadata items (kube-env, cluster-name, ...). */
  metadata: Record<string, string>;
  machineType?: string;
  creationTimestamp?: string;
  /** Full resource URL (selfLink), used to match target pool members. */
  selfLink?: string;
}

export interface GceForwardingRule {
  name: string;
  ip: string;
  portRange?: string;
  /** Target pool URL or name. */
  target: string;
}

export interface GceTargetPool {
  name: string;
  /** Instance names (the URLs' last segment). */
  instances: string[];
  /** Instance URLs as GCE returns them. */
  instanceUrls: string[];
  healthChecks: string[];
}

export interface GceAddress {
  name: string;
  address: string;
  status: string;
  /** URLs of the resources using it (instance or forwarding rule). */
  users: string[];
}

export interface GceObservation {
  project: string;
  region: string;
  masterName: string;
  instances: GceInstance[];
  forwardingRule: GceForwardingRule | null;
  targetPool: GceTargetPool | null;
  staticAddress: GceAddress | null;
  /** Zones that exist in the region (for warnings and add). */
  zonesInRegion?: string[];
  /** Zones the aggregated list could not reach (partial success): VM state there is unknown. */
  unreachableZones?: string[];
  fetchedAt: number;
}

export interface EtcdMember {
  /** Lower-case hex without 0x, as etcdctl prints it. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EtcdEndpointStatus {
  endpoint: string;
  /** Member ID (hex) the endpoint reported, when it answered. */
  memberId: string | null;
  /** The member this endpoint was asked for (its VM's address), when it was derived for one. */
  forMember?: string | null;
  ok: boolean;
  error: string | null;
  version?: string;
  dbSizeBytes?: number;
  dbSizeInUseBytes?: number;
  /** Leader member ID (hex) as this endpoint sees it; '0' means none. */
  leaderId?: string;
  raftTerm?: number;
  raftIndex?: number;
  raftAppliedIndex?: number;
  isLearner?: boolean;
  /** Alarms / errors the member reported about itself. */
  errors?: string[];
  latencyMs?: number;
  /** The call also set up the connection: its latency is not the member's (never judged slow). */
  firstCall?: boolean;
  /** From the member's /metrics (absent: not scraped; null: no metrics endpoint answered). */
  metrics?: EtcdMemberMetrics | null;
  /** The serving certificate seen in a TLS handshake (https endpoints only; absent: not probed). */
  cert?: ServingCert | null;
}

/** What kube-ha reads from a member's /metrics (etcd_disk_*, etcd_server_quota_backend_bytes). */
export interface EtcdMemberMetrics extends MemberDisk {
  url: string;
  quotaBackendBytes: number | null;
}

/** Disk latency p99s from the member's histograms; null when too few samples to say. */
export interface MemberDisk {
  walFsyncP99Ms: number | null;
  backendCommitP99Ms: number | null;
  /** What the p99s cover: the time between two scrapes, or the member's whole life. */
  window?: string;
}

/** A member's serving certificate and its issuer, as its TLS handshake showed them. */
export interface ServingCert {
  /** RFC 3339. */
  notAfter: string;
  subject: string;
  /** The CA that signed it (from the verified chain), when known. */
  caNotAfter: string | null;
  caSubject: string | null;
}

/** A member's space: what etcd counts against --quota-backend-bytes. */
export interface MemberCapacity {
  dbSizeBytes: number;
  dbSizeInUseBytes: number | null;
  quotaBytes: number;
  /** Where the quota came from: the member's etcd_server_quota_backend_bytes, else kube-up's 4 GiB. */
  quotaFrom: 'metrics' | 'kube-up default';
}

export interface EtcdObservation {
  cluster: EtcdClusterName;
  /** Endpoints the tool was given (seeds). */
  seeds: string[];
  /** null when no endpoint answered the member list. */
  members: EtcdMember[] | null;
  membersError: string | null;
  statuses: EtcdEndpointStatus[];
  /** Members no endpoint is known for (ID -> why): kube-up advertises 127.0.0.1, which says nothing. */
  unreachable?: Record<string, string>;
  /** On a replica: the local member's view of its peers (src/domain/peer-view.ts); absent elsewhere. */
  peers?: PeerObservation | null;
  fetchedAt: number;
}

// ---------------------------------------------------------------- model

export interface MemberView {
  memberId: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  /** Where this member answered (a seed or its VM's address), when it was asked. */
  endpoint?: string | null;
  healthy: boolean;
  leader: boolean;
  learner: boolean;
  raftTerm: number | null;
  raftIndex: number | null;
  raftAppliedIndex: number | null;
  dbSizeBytes: number | null;
  version: string | null;
  /** Why it cannot vote and commit; null when it can (an alarm or slowness never sets it). */
  error: string | null;
  /** Its state in one word (src/domain/member-health.ts); `healthy` above still means "votes and commits". */
  state: MemberState;
  /** The alarms it reports (each stops writes cluster-wide), e.g. ["NOSPACE"]; [] when none. */
  alarms: string[];
  /** Why it is slow, in words ([] or absent when it is not). */
  slow?: string[];
  /** The Status call's round trip. */
  latencyMs?: number | null;
  capacity?: MemberCapacity | null;
  disk?: MemberDisk | null;
  /** A learner's progress: its applied index against the leader's index. */
  catchUp?: { appliedIndex: number; leaderIndex: number } | null;
  cert?: ServingCert | null;
  /**
   * On a replica (a peer view was read): null when the member was asked
   * itself ("observed"), else the replica whose member saw it. Absent elsewhere.
   */
  seenFrom?: string | null;
}

export interface ReplicaView {
  name: string;
  zone: string | null;
  vm: {
    status: VmStatus;
    internalIP: string | null;
    externalIP: string | null;
  };
  etcd: Record<EtcdClusterName, MemberView | null>;
  /** In the load balancer's target pool. */
  inTargetPool: boolean;
  /**
   * GCE's health state of it in a pool with a health check (targetPools.getHealth:
   * HEALTHY gets connections); absent when not asked (no check), null when not in the pool.
   */
  poolHealth?: string | null;
  /**
   * kube-apiserver's /healthz on this replica, when it was probed (absent when
   * not probed, null when there is no address to probe).
   */
  apiserver?: ApiserverHealth | null;
}

export interface ApiserverHealth {
  /** Ready: /readyz (or /healthz on an apiserver without it) answered 200 "ok". */
  healthy: boolean;
  error: string | null;
  /** The URL probed (the /healthz fallback when /readyz answered 404). */
  url: string;
  /** ready; not-ready: it answered, with a failure (alive but not ready); not-answering: no HTTP answer. */
  state: ApiserverState;
  /** The checks a not-ready answer listed as failed (`[-]etcd failed`), else []. */
  failedChecks: string[];
}

export type ApiserverState = 'ready' | 'not-ready' | 'not-answering';

/** One probe of a replica's kube-apiserver /healthz. */
export interface ApiserverProbe {
  /** The host probed (internal IP, or the etcd client URL's host in etcd-only mode). */
  host: string;
  url: string;
  healthy: boolean;
  /** null when healthy; otherwise what went wrong (HTTP status and body, or the connection error). */
  error: string | null;
  /** Whether anything answered HTTP at all (false: refused, timed out, TLS failure). */
  answered: boolean;
  /** The checks a failing answer listed as `[-]NAME failed` (absent: none). */
  failedChecks?: string[];
}

/** The leader records read from etcd main, or why they could not be. */
export interface LeaseObservation {
  /** null when the read failed. */
  components: ComponentLeaderRecords[] | null;
  error: string | null;
  /** When the read was answered (ms since the epoch, this tool's clock): the clock rule's "now". */
  readAt?: number;
}

/** A lease as `status` reports it: the view, and how its staleness was judged. */
export interface LeaseStatus extends LeaseView {
  /** 'clock': renewTime against this tool's clock (one-shot); 'watch': the record was watched. */
  judgedBy: 'clock' | 'watch';
  /**
   * Whether the holder's replica is up: false when its VM is not RUNNING, its
   * apiserver does not answer or its etcd members are unreachable; null when
   * unknown (no holder replica, or nothing observed of it).
   */
  holderHealthy: boolean | null;
  /** Why the holder is down, when holderHealthy is false. */
  holderDown?: string;
  /** renewTime + leaseDurationSeconds (RFC 3339, the holder's clock); null without a holder or those fields. */
  expiresAt: string | null;
}

export interface ClusterHealth {
  members: number;
  votingMembers: number;
  healthyMembers: number;
  /** Healthy voting members. */
  healthyVoters: number;
  quorum: number;
  /** How many more voter failures the cluster survives now (>= 0, or -1 when quorum is already lost). */
  faultTolerance: number;
  leaderId: string | null;
  learners: number;
  /** Whether anything was observed at all for this cluster. */
  observed: boolean;
  error: string | null;
  /** The cluster's alarms as its members list them, each with the member that raised it. */
  alarms?: EtcdAlarm[];
}

export type Severity = 'error' | 'warning';

export type WarningCode =
  | 'EVEN_MEMBER_COUNT'
  | 'TWO_MEMBERS'
  | 'ZONE_CONCENTRATION'
  | 'MEMBER_WITHOUT_VM'
  | 'VM_WITHOUT_MEMBER'
  | 'UNHEALTHY_MEMBER'
  | 'NO_LEADER'
  | 'QUORUM_LOST'
  | 'LEARNER_PRESENT'
  | 'REPLICA_OUTSIDE_REGION'
  | 'LOAD_BALANCER_MISMATCH'
  | 'VM_NOT_RUNNING'
  | 'ETCD_UNREACHABLE'
  | 'GCE_UNREACHABLE'
  | 'STALE_LEASE'
  | 'LEASE_HOLDER_UNKNOWN'
  | 'APISERVER_UNHEALTHY'
  | 'ETCD_ALARM'
  | 'ETCD_SLOW'
  | 'ETCD_SPACE'
  | 'ETCD_VERSION_SKEW'
  | 'ETCD_CERT_EXPIRY'
  | 'LOAD_BALANCER_NO_HEALTH_CHECK';

export interface Warning {
  code: WarningCode;
  severity: Severity;
  message: string;
  /** Replica the warning is about, when it is about one. */
  replica?: string;
  cluster?: EtcdClusterName;
}

export interface LoadBalancerView {
  forwardingRule: string;
  ip: string;
  targetPool: string | null;
  instances: string[];
  /** The target pool's health checks (kube-up attaches none: every member gets traffic). */
  healthChecks?: string[];
  /** kube-apiserver probed through the forwarding rule's IP (absent: not probed). */
  apiserver?: ApiserverHealth | null;
}

export interface ApiserverIPView {
  address: string | null;
  attachedTo: string | null; // 'load-balancer' | replica name | null
}

export interface ClusterStatus {
  project: string | null;
  region: string | null;
  masterName: string | null;
  replicas: ReplicaView[];
  etcd: Record<EtcdClusterName, ClusterHealth>;
  loadBalancer: LoadBalancerView | null;
  apiserverIP: ApiserverIPView | null;
  warnings: Warning[];
  /**
   * Leader leases of kube-controller-manager, kube-scheduler and
   * cluster-autoscaler; absent when they were not read (no etcd main).
   */
  leases?: LeaseStatus[];
  /** Why the leases could not be read (then `leases` is empty). */
  leasesError?: string | null;
  /** When the leases were read (RFC 3339), which the clock rule compared renewTime with. */
  leasesReadAt?: string;
  /** Which sources fed this status. */
  sources: { gce: boolean; etcd: boolean };
  observedAt: string;
}
