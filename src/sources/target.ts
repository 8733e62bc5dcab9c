// What the tool talks to: resolved from flags, the environment, or a lab's
// context file (src/cli/target-flags.ts builds it).

import type { EtcdClusterName } from '../domain/types.js';
import type { TlsFiles } from '../net/etcd-client.js';

export type { TlsFiles };

export interface EtcdTarget {
  /**
   * Seed endpoints (https://ip:2379, ...); the member list extends them.
   * Empty: derived from the replica VMs' internal IPs (Compute) on kube-up's
   * client port (main https 2379, events http 4002), for a bastion or laptop.
   */
  endpoints: string[];
  tls: TlsFiles | null;
}

export interface ComputeTarget {
  /** null = the real API with Application Default Credentials. */
  endpoint: string | null;
}

/**
 * kube-ha runs on one of the replicas (its metadata server said so): the
 * seeds are its own members on 127.0.0.1, as kube-up's etcd listens on
 * loopback only, and the members that cannot be asked directly are seen
 * through the local member's status and peer metrics.
 */
export interface ReplicaVantage {
  /** The instance kube-ha runs on. */
  replica: string;
  zone: string | null;
  /** The local members' /metrics: main on 2382 (kube-up, with client mTLS), events on its client URL. */
  metrics: Record<EtcdClusterName, string>;
  /** What this replica could not give (one line each, e.g. a file that needs root). */
  notes: string[];
}

export interface Target {
  project: string | null;
  region: string | null;
  masterName: string;
  compute: ComputeTarget | null;
  etcd: { main: EtcdTarget | null; events: EtcdTarget | null };
  /** kube-apiserver's --etcd-prefix. */
  etcdPrefix: string;
  /** kube-apiserver's secure port on every replica (443 as kube-up configures it; a lab may serve 6443). */
  apiserverPort: number;
  /** Set when the target is a local lab. */
  lab: { dir: string; controlURL: string } | null;
  /** Per-user state (debug log, journals, exports). */
  stateDir: string;
  /** Deadline for one network call. */
  callTimeoutMs: number;
  /** Set when kube-ha runs on a replica and no etcd endpoints were given. */
  vantage?: ReplicaVantage | null;
}
