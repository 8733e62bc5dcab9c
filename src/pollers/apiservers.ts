// Which kube-apiservers the console probes, from what the store shows now:
// each replica's address (its VM's internal IP, or where its etcd member
// answered when Compute is not observed) and the load balancer's IP. A replica
// without an address is not probed. Pure.
import { apiserverHostOf } from '../domain/status.js';
import type { ConsoleData } from '../store/types.js';

/** Between two rounds of apiserver probes (each probe has its own deadline). */
export const DEFAULT_APISERVER_INTERVAL_MS = 3000;

export function apiserverHostsToProbe(s: Pick<ConsoleData, 'status' | 'observations'>): string[] {
  const st = s.status;
  if (!st) return [];
  const gceObserved = s.observations.gce !== null;
  const hosts = st.replicas.map((r) => apiserverHostOf(r, gceObserved)).filter((h): h is string => !!h);
  const lb = st.loadBalancer?.ip;
  if (lb) hosts.push(lb);
  return [...new Set(hosts)];
}
