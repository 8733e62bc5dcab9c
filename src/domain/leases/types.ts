// Leader-election records as stored in etcd, decoded. See
// shared/design/k8s-leader-records.md for where they live and how they are encoded.

export const LEADER_COMPONENTS = ['kube-controller-manager', 'kube-scheduler', 'cluster-autoscaler'] as const;

/** Where a record was found: a Lease, or the legacy annotation on an Endpoints or ConfigMap. */
export type RecordSource = 'lease' | 'endpoints' | 'configmap';

export const LEGACY_LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/**
 * LeaseSpec's fields; null = absent (every field is optional in the API).
 * Times are RFC 3339 strings with the stored precision.
 */
export interface LeaseSpec {
  holderIdentity: string | null;
  leaseDurationSeconds: number | null;
  acquireTime: string | null;
  renewTime: string | null;
  leaseTransitions: number | null;
  strategy: string | null;
  preferredHolder: string | null;
}

export interface DecodedLeaderRecord {
  state: 'decoded';
  source: RecordSource;
  encoding: 'protobuf' | 'json';
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  /** null when absent or unreadable: it is not needed to judge the leader. */
  creationTimestamp: string | null;
  /** For legacy records, the annotation mapped onto a LeaseSpec (leaderTransitions -> leaseTransitions). */
  spec: LeaseSpec;
}

export type LeaderRecord =
  | DecodedLeaderRecord
  /** An Endpoints or ConfigMap that exists but carries no leader annotation. */
  | { state: 'no-record'; source: RecordSource; reason: string }
  | {
      state: 'encrypted';
      source: RecordSource | null;
      provider: string;
      providerVersion: string;
      keyName: string;
    }
  | { state: 'undecodable'; source: RecordSource | null; reason: string };

/** Watch bookkeeping for one key, on the tool's own clock (ms since the epoch). */
export interface WatchInfo {
  /** When the watcher first saw the current key (or when it was re-read after a resync). */
  since: number;
  /** When the watcher last saw the key's mod_revision change (== since until a change is seen). */
  lastChangeAt: number;
  /** False while the watch stream is disconnected: then no change can be seen, so the watch rule does not apply. */
  connected: boolean;
}

export interface ObservedLeaderRecord {
  key: string;
  /** etcd mod_revision (an int64, kept as a decimal string). */
  modRevision: string;
  record: LeaderRecord;
  /** Present only when a watcher follows the key. */
  watch?: WatchInfo;
}

/** The three places one component's record can be; null = the key does not exist. */
export interface ComponentLeaderRecords {
  component: string;
  lease: ObservedLeaderRecord | null;
  endpoints: ObservedLeaderRecord | null;
  configmap: ObservedLeaderRecord | null;
}
