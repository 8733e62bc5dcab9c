// What the tool talks to: resolved from flags, the environment, or a lab's
// context file (src/cli/target-flags.ts builds it).

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
}
