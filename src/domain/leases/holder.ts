// Maps a lease's holderIdentity to the control-plane replica (VM) that holds it.
// kube-controller-manager and kube-scheduler use `<hostname>_<uuid>`;
// cluster-autoscaler uses the bare hostname (or a pod name when it runs in a pod).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface HolderIdentity {
  hostname: string;
  /** The per-process UUID, when the identity has one. */
  uuid: string | null;
}

/** Splits at the last `_` only when a UUID follows: hostnames may themselves contain `_`. */
export function parseHolderIdentity(identity: string): HolderIdentity {
  const i = identity.lastIndexOf('_');
  if (i > 0) {
    const tail = identity.slice(i + 1);
    if (UUID.test(tail)) return { hostname: identity.slice(0, i), uuid: tail };
  }
  return { hostname: identity, uuid: null };
}

/**
 * The replica whose name equals the holder's hostname, or its first DNS label
 * (a VM may report `name.c.project.internal`). Hostnames are case-insensitive.
 * null when the identity is empty or matches no known replica.
 */
export function holderReplica(identity: string | null, replicas: readonly string[]): string | null {
  if (!identity) return null;
  const host = parseHolderIdentity(identity).hostname.toLowerCase();
  const label = host.split('.')[0] ?? host;
  const exact = replicas.find((r) => r.toLowerCase() === host);
  if (exact !== undefined) return exact;
  return replicas.find((r) => r.toLowerCase() === label) ?? null;
}
