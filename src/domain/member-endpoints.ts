// Where to reach each etcd member's client port. kube-up advertises every
// member's client URL as 127.0.0.1 (the member's own loopback) and its peer
// URL by instance name, so an advertised client URL says nothing about where
// the member is from here. A member is reached at an endpoint the operator
// gave whose status named it, else at its VM's address (the instance named
// in its peer URL) on the cluster's client port. Pure.
import { urlHost } from './names.js';
import type { EtcdClusterName, EtcdMember } from './types.js';

export interface ClientPortStyle {
  scheme: 'http' | 'https';
  port: number;
}

/** kube-up's client ports: main https 2379, events http 4002. */
export const KUBE_UP_CLIENT: Record<EtcdClusterName, ClientPortStyle> = {
  main: { scheme: 'https', port: 2379 },
  events: { scheme: 'http', port: 4002 },
};

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function isIPAddress(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

/** The client scheme and port the seeds use (they are the cluster's), else kube-up's. */
export function clientStyleOf(seeds: readonly string[], cluster: EtcdClusterName): ClientPortStyle {
  for (const s of seeds) {
    try {
      const u = new URL(s);
      const scheme = u.protocol === 'https:' ? 'https' : 'http';
      return { scheme, port: Number(u.port) || (scheme === 'https' ? 443 : 80) };
    } catch {
      // not a URL: the next seed, or the default
    }
  }
  return KUBE_UP_CLIENT[cluster];
}

/**
 * The loopback names a member advertises for itself (kube-up: 127.0.0.1):
 * from elsewhere they name the machine kube-ha runs on. (Other 127/8
 * addresses are distinct hosts in the lab.)
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]';
}

/**
 * The endpoint a member is reached at, derived from its peer URL's host:
 * the address of the VM by that name (`hosts`), or the host itself when it is
 * an IP that is not loopback. null when nothing says where it is.
 */
export function derivedEndpoint(
  member: Pick<EtcdMember, 'peerURLs'>,
  style: ClientPortStyle,
  hosts: ReadonlyMap<string, string>,
): string | null {
  const host = urlHost(member.peerURLs[0] ?? '');
  if (!host) return null;
  const ip = hosts.get(host) ?? (isIPAddress(host) && !isLoopbackHost(host) ? host : null);
  return ip ? endpointAt(ip, style) : null;
}

/** The client endpoint on a host (an IPv6 address gets its brackets). */
export function endpointAt(ip: string, style: ClientPortStyle): string {
  const h = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  return `${style.scheme}://${h}:${style.port}`;
}

/**
 * Seeds when the operator gave none (from a bastion or a laptop): every
 * replica VM's internal IP on the cluster's client port, in a stable order.
 */
export function seedsFromHosts(hosts: ReadonlyMap<string, string>, style: ClientPortStyle): string[] {
  return [...new Set(hosts.values())].sort().map((ip) => endpointAt(ip, style));
}

/** Why there is nothing to ask when no seeds were given and none could be derived. */
export function noSeedsReason(hostsKnown: boolean): string {
  return (
    'no etcd endpoint to ask: none given (--etcd-endpoints) and ' +
    (hostsKnown
      ? 'Compute lists no replica VM with an internal IP'
      : "the VMs' addresses are not known (Compute has not answered)")
  );
}

/**
 * No member answered at its VM's address: what kube-up's defaults do to a
 * client off the replica, and what to set. kube-up's etcd listens on
 * ETCD_LISTEN_CLIENT_IP, default 127.0.0.1 (configure-helper.sh
 * prepare-etcd-manifest); its `<cluster>-default-internal-master` firewall
 * rule opens tcp:1-2379 and 2382-65535 to the masters from 10.0.0.0/8 only.
 */
export function derivedSeedsAdvice(
  cluster: EtcdClusterName,
  seeds: readonly string[],
  masterName: string | null,
  cause: string,
): string {
  const ports = 'tcp:2379 (main) and tcp:4002 (events)';
  return (
    `no etcd ${cluster} member answered at its VM's address (${seeds.join(', ')}): ${cause}. ` +
    "kube-up's etcd listens on 127.0.0.1 only unless ETCD_LISTEN_CLIENT_IP is set (e.g. 0.0.0.0 in the replicas' kube-env); " +
    `${ports} must be open from here (kube-up's default-internal-master rule opens them from 10.0.0.0/8 only; ` +
    `elsewhere a firewall rule to target tag ${masterName ?? '<master-name>'}); ` +
    'or give --etcd-endpoints (e.g. through an ssh tunnel), or run kube-ha on a replica'
  );
}

/**
 * Each member's endpoint: a seed whose status named it, else its derived
 * endpoint unless that endpoint is a seed that answered for another member.
 * Members with no endpoint are absent from the map.
 */
export function memberEndpoints(
  members: readonly Pick<EtcdMember, 'id' | 'peerURLs'>[],
  seedAnswers: ReadonlyMap<string, string | null>,
  style: ClientPortStyle,
  hosts: ReadonlyMap<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [endpoint, memberId] of seedAnswers) if (memberId) out.set(memberId, endpoint);
  for (const m of members) {
    if (out.has(m.id)) continue;
    const e = derivedEndpoint(m, style, hosts);
    if (!e) continue;
    const answered = seedAnswers.get(e);
    if (answered && answered !== m.id) continue;
    out.set(m.id, e);
  }
  return out;
}

/** Why a member has no endpoint, in an operator's words. */
export function noEndpointReason(member: Pick<EtcdMember, 'clientURLs' | 'peerURLs'>): string {
  const adv = member.clientURLs[0];
  const peerHost = urlHost(member.peerURLs[0] ?? '') ?? '?';
  return (
    `no client endpoint known for ${peerHost}` +
    (adv ? ` (it advertises ${adv}, its own loopback)` : '') +
    ': give its address with --etcd-endpoints'
  );
}
