// What a plan names and how it addresses members: the new member's peer URL
// (by name as kube-up, or by IP), and the names of the resources kube-up
// gives a replica and the load balancer.
import { isIPAddress } from '../member-endpoints.js';
import { urlHost } from '../names.js';
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { PeerURLTemplate } from './step.js';

/** How the new member's peer URL host is known: by name (kube-up) or by a reserved internal IP. */
export type PeerStyle = 'hostname' | 'ip';
/** kube-up names peers by replica name; the lab (and some installs) by IP. */
export function peerStyleOf(status: ClusterStatus): PeerStyle {
  for (const r of status.replicas) {
    for (const c of ETCD_CLUSTERS) {
      for (const u of r.etcd[c]?.peerURLs ?? []) {
        const h = urlHost(u);
        if (h && isIPAddress(h)) return 'ip';
        if (h) return 'hostname';
      }
    }
  }
  return 'hostname';
}

const DEFAULT_PEER: Record<EtcdClusterName, PeerURLTemplate> = {
  main: { scheme: 'https', port: 2380 },
  events: { scheme: 'https', port: 2381 },
};

/** Scheme and port of the new member's peer URL, as the existing members have them. */
export function peerTemplateOf(status: ClusterStatus, cluster: EtcdClusterName): PeerURLTemplate {
  for (const r of status.replicas) {
    const u = r.etcd[cluster]?.peerURLs[0];
    if (!u) continue;
    try {
      const url = new URL(u);
      const scheme = url.protocol === 'http:' ? 'http' : 'https';
      const port = Number(url.port) || DEFAULT_PEER[cluster].port;
      return { scheme, port };
    } catch {
      // an unparsable peer URL tells nothing; try the next member
    }
  }
  return DEFAULT_PEER[cluster];
}

export function peerURL(t: PeerURLTemplate, host: string): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${t.scheme}://${h}:${t.port}`;
}

export function internalAddressName(replica: string): string {
  return `${replica}-internal-ip`;
}

export function diskNameOf(replica: string): string {
  return `${replica}-pd`;
}

export function healthCheckNameOf(masterName: string): string {
  return `${masterName}-hc`;
}

export function staticAddressNameOf(masterName: string): string {
  return `${masterName}-ip`;
}
