// Naming rules of GCE and of kube-up's HA replicas.

/** GCE resource names: RFC 1035 labels of at most 63 characters. */
export const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The region of a zone: the zone minus its last -suffix (us-central1-a -> us-central1). */
export function regionOfZone(zone: string): string {
  const i = zone.lastIndexOf('-');
  return i > 0 ? zone.slice(0, i) : zone;
}

/** Last path segment of a resource URL or partial path. */
export function lastSegment(urlOrName: string): string {
  const parts = urlOrName.split('/');
  return parts[parts.length - 1] ?? urlOrName;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replicas are MASTER_NAME or MASTER_NAME-xxx (kube-up's rule). */
export function replicaNamePattern(masterName: string): RegExp {
  return new RegExp(`^${escapeRegex(masterName)}(-[a-z0-9]+)?$`);
}

export function isReplicaName(masterName: string, name: string): boolean {
  return replicaNamePattern(masterName).test(name);
}

/** etcd member name of a replica. */
export function memberNameOf(replica: string): string {
  return `etcd-${replica}`;
}

/** Host part of a URL, or null. */
export function urlHost(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * kube-up's rule for a new replica: MASTER_NAME-xxx with a random 3-character
 * suffix that is not a substring of any existing replica name.
 */
export function newReplicaName(
  masterName: string,
  existing: string[],
  random: () => number = Math.random,
): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let suffix = '';
    for (let i = 0; i < 3; i++) suffix += SUFFIX_CHARS[Math.floor(random() * SUFFIX_CHARS.length)];
    if (!existing.some((n) => n.includes(suffix))) return `${masterName}-${suffix}`;
  }
  throw new Error('no free replica name suffix found');
}
